"""Cloud access: the one place that knows how to reach a site's services.

``SiteCloud`` wraps a keystoneauth session and an openstacksdk connection
for one registered site, built either from a user's token (synchronous API
requests) or from a Keystone trust (background work). Every call goes
through ``guard`` so a site that cannot be reached becomes a typed
``SiteUnreachable`` error naming the site and the service.
"""
