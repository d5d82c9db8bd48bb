"""OpenStackClient plugin entry point for Protector.

Registered under ``openstack.cli.extension`` as ``protector``: OSC reads
``API_NAME``, ``API_VERSION_OPTION``, ``API_VERSIONS``, ``make_client`` and
``build_option_parser`` from here. Commands live in the
``openstack.protector.v1`` entry-point group and carry both spellings,
``dr ...`` and ``protector ...``.

The API version option doubles as the microversion (doc/cli.md):
``PROTECTOR_API_VERSION`` or ``--os-protector-api-version`` selects the
command group by its major part (``v1``) and is sent whole as
``OpenStack-API-Version: protector X.Y``.
"""
import logging
import os
import re

from osc_lib import utils

from protectorclient import client as protector_client
from protectorclient import exceptions
from protectorclient import sites

LOG = logging.getLogger(__name__)

API_NAME = "protector"
API_VERSION_OPTION = "os_protector_api_version"
DEFAULT_API_VERSION = protector_client.DEFAULT_API_VERSION
API_VERSIONS = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6")

_VERSION_RE = re.compile(r"^1\.\d+$")


def check_api_version(check_version):
    """Validate the requested microversion; skip OSC's exact-match check."""
    if not _VERSION_RE.match(str(check_version)):
        raise exceptions.UsageError(
            "Invalid protector API version %r: expected 1.N (supported: "
            "%s)" % (check_version, ", ".join(API_VERSIONS)))
    return True


def _endpoint(instance):
    endpoint = instance.get_endpoint_for_service_type(
        protector_client.SERVICE_TYPE,
        region_name=instance.region_name,
        interface=instance.interface)
    if not endpoint:
        raise exceptions.ProtectorClientError(
            "No 'protector' endpoint found in the service catalog; register "
            "one or give --os-protector-endpoint / OS_PROTECTOR_ENDPOINT.")
    project_id = None
    auth_ref = instance.auth_ref
    if auth_ref is not None:
        project_id = auth_ref.project_id
    return sites.expand_endpoint(endpoint, project_id)


def secondary_site(cloud_name):
    """A :class:`sites.CloudSite` for the clouds.yaml entry, or None."""
    if not cloud_name:
        return None

    def load():
        from openstack.config import loader
        # load_envvars=False: the OS_* variables describe the primary site
        # and must not leak into the secondary's credentials. The clouds.yaml
        # location variables still apply, as they do for the primary.
        files = {}
        for key, env, default in (
                ("config_files", "OS_CLIENT_CONFIG_FILE",
                 loader.CONFIG_FILES),
                ("secure_files", "OS_CLIENT_SECURE_FILE",
                 loader.SECURE_FILES)):
            override = os.environ.get(env)
            files[key] = ([override] if override else []) + list(default)
        return loader.OpenStackConfig(load_envvars=False, **files).get_one(
            cloud=cloud_name)

    return sites.CloudSite(cloud_name, load, role="secondary")


def make_client(instance):
    """Build the primary site's protector client for OSC's ClientManager."""
    api_version = instance._api_version[API_NAME]
    cloud_config = instance._cli_options.config
    peer = secondary_site(cloud_config.get("secondary_cloud"))
    endpoint = _endpoint(instance)
    LOG.debug("protector endpoint %s, API version %s, secondary cloud %s",
              endpoint, api_version, peer.name if peer else None)
    return protector_client.Client(instance.session, endpoint,
                                   api_version=api_version, peer=peer,
                                   site_label="the primary site")


def build_option_parser(parser):
    """Global options of the plugin (doc/cli.md, "Authentication")."""
    parser.add_argument(
        "--os-protector-api-version",
        metavar="<protector-api-version>",
        default=utils.env("PROTECTOR_API_VERSION",
                          "OS_PROTECTOR_API_VERSION",
                          default=DEFAULT_API_VERSION),
        help="Protector API microversion, sent as 'OpenStack-API-Version: "
             "protector X.Y' (Env: PROTECTOR_API_VERSION, default %s)"
             % DEFAULT_API_VERSION)
    parser.add_argument(
        "--os-protector-endpoint",
        metavar="<url>",
        dest="os_protector_endpoint_override",
        default=utils.env("OS_PROTECTOR_ENDPOINT"),
        help="Protector API endpoint overriding the service catalog, e.g. "
             "http://controller:8788/v1/<project-id> (a base URL gets "
             "/v1/<project-id> appended) (Env: OS_PROTECTOR_ENDPOINT)")
    parser.add_argument(
        "--secondary-cloud",
        metavar="<cloud>",
        dest="secondary_cloud",
        default=os.environ.get("OS_SECONDARY_CLOUD"),
        help="clouds.yaml entry of the secondary (peer) site; required for "
             "cross-site operations (Env: OS_SECONDARY_CLOUD)")
    return parser
