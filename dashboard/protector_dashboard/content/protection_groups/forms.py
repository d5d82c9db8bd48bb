"""Forms of the protection groups panel.

Each form makes one protectorclient call in ``handle``; a refusal of the
API is shown with its detail (which says what to do) and the form stays
open. The DR action form asks for the preflight first (doc/api-ref.md
"Preflight"): the first submit shows its checks, and only a second,
confirmed submit of the same parameters starts the action.
"""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import forms
from horizon import messages
from openstack_dashboard import api as os_api

from protector_dashboard.api import clouds
from protector_dashboard.api import protector
from protector_dashboard.content.protection_groups import peer


def _fail(request, message, exc):
    # A refusal for want of a peer token says so and links to the sign-in.
    refusal = peer.refusal_message(request, exc)
    if refusal is not None:
        messages.error(request, refusal)
    else:
        exceptions.handle(request, "%s %s" % (message, exc))
    return False


class CreateGroupForm(forms.SelfHandlingForm):
    name = forms.CharField(max_length=255, label=_("Name"))
    description = forms.CharField(max_length=255, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  label=_("Description"))
    replication_type = forms.ChoiceField(
        label=_("Replication Type"),
        choices=(("async", _("Asynchronous")), ("sync", _("Synchronous"))))
    primary_site_id = forms.ChoiceField(label=_("Primary Site"))
    secondary_site_id = forms.ChoiceField(label=_("Secondary Site"))
    volume_type_id = forms.ChoiceField(
        label=_("Volume Type"),
        help_text=_("A replication-enabled volume type of the primary "
                    "site."))
    secondary_volume_type = forms.CharField(
        max_length=255, required=False, label=_("Secondary Volume Type"),
        help_text=_("Name or ID on the secondary site, when its type is "
                    "named differently and several would fit."))

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        try:
            sites = [(s.id, s.name) for s in protector.site_list(request)]
        except Exception:
            sites = []
            exceptions.handle(request, _("Unable to retrieve the sites."))
        try:
            types = [(t.id, t.name)
                     for t in os_api.cinder.volume_type_list(request)]
        except Exception:
            types = []
            exceptions.handle(request,
                              _("Unable to retrieve the volume types."))
        self.fields["primary_site_id"].choices = sites
        self.fields["secondary_site_id"].choices = sites
        self.fields["volume_type_id"].choices = types

    def clean(self):
        data = super().clean()
        if data.get("primary_site_id") and \
                data.get("primary_site_id") == data.get("secondary_site_id"):
            raise ValidationError(
                _("The primary and secondary sites must differ."))
        return data

    def handle(self, request, data):
        try:
            group = protector.pg_create(request, **data)
        except Exception as exc:
            return _fail(request, _("Unable to create the protection "
                                    "group:"), exc)
        messages.success(request, _("Created protection group %s.")
                         % group.name)
        return group


class UpdateGroupForm(forms.SelfHandlingForm):
    name = forms.CharField(max_length=255, label=_("Name"))
    description = forms.CharField(max_length=255, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  label=_("Description"))

    def handle(self, request, data):
        group_id = self.initial["group_id"]
        try:
            group = protector.pg_update(request, group_id, **data)
        except Exception as exc:
            return _fail(request, _("Unable to update the protection "
                                    "group:"), exc)
        messages.success(request, _("Updated protection group %s.")
                         % group.name)
        return group


class AddMemberForm(forms.SelfHandlingForm):
    instance_id = forms.ChoiceField(
        label=_("Instance"),
        help_text=_("An instance of this project whose volumes are of the "
                    "group's volume type; all its attached volumes are "
                    "protected."))

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        taken = set(self.initial.get("member_instance_ids") or ())
        try:
            servers, _more = os_api.nova.server_list(request)
        except Exception:
            servers = []
            exceptions.handle(request, _("Unable to retrieve instances."))
        self.fields["instance_id"].choices = [
            (s.id, "%s (%s)" % (s.name, s.id)) for s in servers
            if s.id not in taken]

    def handle(self, request, data):
        group_id = self.initial["group_id"]
        try:
            member = protector.member_add(request, group_id,
                                          data["instance_id"])
        except Exception as exc:
            return _fail(request, _("Unable to add the member:"), exc)
        messages.success(request, _("Added instance %s to the group.")
                         % (member.get("instance_name") or
                            data["instance_id"]))
        return member


class SetPolicyForm(forms.SelfHandlingForm):
    primary_fa_url = forms.URLField(label=_("Primary FlashArray URL"))
    primary_fa_api_token = forms.CharField(
        label=_("Primary FlashArray API Token"),
        widget=forms.PasswordInput(render_value=False))
    secondary_fa_url = forms.URLField(label=_("Secondary FlashArray URL"))
    secondary_fa_api_token = forms.CharField(
        label=_("Secondary FlashArray API Token"),
        widget=forms.PasswordInput(render_value=False))
    pure_pg_name = forms.RegexField(
        regex=r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", max_length=63,
        label=_("FlashArray Protection Group or Pod"))
    replication_interval = forms.IntegerField(
        min_value=1, max_value=31536000, required=False,
        label=_("Replication Interval (seconds)"),
        help_text=_("Asynchronous groups: 300 when left empty."))
    rpo_minutes = forms.IntegerField(
        min_value=1, max_value=525600, required=False,
        label=_("RPO (minutes)"),
        help_text=_("Asynchronous groups: 15 when left empty."))

    # The tokens are never shown again, so they must be typed each time.
    no_autocomplete = True

    def handle(self, request, data):
        group_id = self.initial["group_id"]
        try:
            protector.policy_set(request, group_id, **data)
        except Exception as exc:
            return _fail(request, _("Unable to set the replication "
                                    "policy:"), exc)
        messages.success(request, _("Replication policy saved."))
        return True


def parse_mapping(text):
    """``src=dst`` lines into a dict (blank lines ignored)."""
    mapping = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        src, sep, dst = line.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise ValidationError(
                _("Line %(n)d: write SOURCE=TARGET, not %(line)r.")
                % {"n": number, "line": line})
        mapping[src.strip()] = dst.strip()
    return mapping


MAPPING_HELP = _("One SOURCE=TARGET per line; names that exist on the "
                 "target site need no line.")
KEEP = ("", _("-- keep / choose --"))
# The mapping fields and the prefix of their per-source selects; a
# select is named by index (source names may hold any character).
MAPPINGS = (("network_mapping", "network_map__", "networks",
             "target_networks", _("Network %s"), _("Other Network Mappings")),
            ("flavor_mapping", "flavor_map__", "flavors",
             "target_flavors", _("Flavor %s"), _("Other Flavor Mappings")))


class DRActionForm(forms.SelfHandlingForm):
    """Failover, failback, test failover or test cleanup of one group.

    The fields are those of the action's body (doc/api-ref.md "DR
    operations"); which of them the action takes is ``FIELDS``.
    """

    FIELDS = {
        "failover": ("type", "network_mapping", "flavor_mapping",
                     "keep_fixed_ips"),
        "failback": ("network_mapping", "flavor_mapping",
                     "keep_fixed_ips", "reverse_replication"),
        "test_failover": ("network_mapping", "auto_network",
                          "keep_fixed_ips"),
        "test_cleanup": (),
    }
    # The actions the API can preflight (test cleanup has no preflight).
    PREFLIGHT = ("failover", "failback", "test_failover")

    type = forms.ChoiceField(
        label=_("Failover Type"), required=False,
        choices=(("planned", _("Planned: stop the source workload and "
                               "take a final snapshot first")),
                 ("unplanned", _("Unplanned: the source site is lost; "
                                 "recover from the last replicated "
                                 "snapshot"))))
    network_mapping = forms.CharField(
        label=_("Network Mapping"), required=False, help_text=MAPPING_HELP,
        widget=forms.Textarea(attrs={"rows": 3}))
    flavor_mapping = forms.CharField(
        label=_("Flavor Mapping"), required=False, help_text=MAPPING_HELP,
        widget=forms.Textarea(attrs={"rows": 3}))
    keep_fixed_ips = forms.BooleanField(
        label=_("Keep fixed IPs"), required=False, initial=True)
    reverse_replication = forms.BooleanField(
        label=_("Reverse replication"), required=False, initial=True)
    auto_network = forms.BooleanField(
        label=_("Create an isolated test network"), required=False)
    confirmed = forms.BooleanField(
        label=_("I have read the preflight checks: start the action"),
        required=False)

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.action = self.initial["action"]
        self.preflight = None
        keep = set(self.FIELDS[self.action]) | {"confirmed"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if self.action not in self.PREFLIGHT:
            self.fields["confirmed"].label = _("Confirm")
        # {select field name: source name}; why the lists are missing.
        self.map_sources = {}
        self.lists_missing = None
        if any(m[0] in self.fields for m in MAPPINGS):
            self._add_mapping_selects()

    def _add_mapping_selects(self):
        """One select of the target site's names per source name the
        members use, before the free-text field it adds to; without the
        lists only the free-text field stays, with the reason."""
        try:
            choices = clouds.mapping_choices(
                self.request, self.initial["group_id"], self.action)
        except Exception as exc:
            self.lists_missing = str(exc)
            return
        selects = {}
        for field, prefix, sources, targets, label, other in MAPPINGS:
            if field not in self.fields:
                continue
            options = [(n, n) for n in choices[targets]]
            offered = set(choices[targets])
            selects[field] = []
            for i, source in enumerate(choices[sources]):
                name = "%s%d" % (prefix, i)
                self.map_sources[name] = source
                self.fields[name] = forms.ChoiceField(
                    label=label % source, required=False,
                    choices=[KEEP] + options,
                    # The same name needs no mapping: chosen already.
                    initial=source if source in offered else "")
                selects[field].append(name)
            self.fields[field].label = other
            self.fields[field].help_text = _(
                "%(help)s Lines here win over the choices above. Target "
                "site: %(site)s.") % {"help": MAPPING_HELP,
                                       "site": choices["target"]}
        # Each free-text field right after its selects, the rest in place.
        order = []
        for name in self.fields:
            if name not in self.map_sources:
                order += selects.get(name, []) + [name]
        self.order_fields(order)

    def _chosen(self, data, prefix):
        """The selects' choices that differ from their source name."""
        return {source: data[name]
                for name, source in self.map_sources.items()
                if name.startswith(prefix) and data.get(name) and
                data[name] != source}

    def params(self, data):
        params = {}
        for name in self.FIELDS[self.action]:
            value = data.get(name)
            if name in ("network_mapping", "flavor_mapping"):
                prefix = dict((m[0], m[1]) for m in MAPPINGS)[name]
                value = {**self._chosen(data, prefix),
                         **parse_mapping(value)}
                if not value:
                    continue
            elif name == "type":
                value = value or "planned"
            params[name] = value
        return params

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        params = self.params(data)
        data["params"] = params
        if self.action in self.PREFLIGHT:
            # Shown on every submit, so what is confirmed is the table
            # of the parameters being sent.
            try:
                self.preflight = protector.pg_preflight(
                    self.request, self.initial["group_id"], self.action,
                    params)
            except Exception as exc:
                refusal = peer.refusal_message(self.request, exc)
                if refusal is not None:
                    messages.error(self.request, refusal)
                raise ValidationError(
                    _("The preflight could not run: %s") % exc)
            if not self.preflight.ok:
                raise ValidationError(
                    _("The preflight found checks that fail: the action "
                      "would be refused. Fix them and submit again."))
        if not data.get("confirmed"):
            raise ValidationError(
                _("Review the preflight checks below, then tick the box "
                  "and submit again.") if self.action in self.PREFLIGHT
                else _("Tick the box to confirm."))
        return data

    def handle(self, request, data):
        try:
            operation = protector.pg_action(
                request, self.initial["group_id"], self.action,
                data["params"])
        except Exception as exc:
            return _fail(request, _("Unable to start the operation:"),
                         exc)
        messages.success(request, _("Operation %(type)s %(id)s queued.")
                         % {"type": self.action, "id": operation.id})
        return operation
