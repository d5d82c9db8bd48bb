"""The enabled files, as Horizon's update_dashboards reads them."""
import importlib
import pkgutil

from django.test import SimpleTestCase

from protector_dashboard import enabled


def _modules():
    return [importlib.import_module("%s.%s" % (enabled.__name__, info.name))
            for info in pkgutil.iter_modules(enabled.__path__)]


class EnabledFilesTests(SimpleTestCase):

    def test_app_added_once(self):
        # Horizon does not merge apps named by several files: Django
        # would refuse the duplicate label at start-up.
        apps = [app for module in _modules()
                for app in getattr(module, "ADD_INSTALLED_APPS", [])]
        self.assertEqual(["protector_dashboard"], apps)

    def test_each_panel_group_comes_before_its_panels(self):
        groups = {}
        for module in _modules():
            name = module.__name__.rsplit(".", 1)[1]
            if hasattr(module, "PANEL_GROUP_NAME"):
                groups[(module.PANEL_GROUP_DASHBOARD,
                        module.PANEL_GROUP)] = name
        panels = [m for m in _modules() if hasattr(m, "PANEL")]
        self.assertEqual(3, len(panels))
        for module in panels:
            group = groups[(module.PANEL_DASHBOARD, module.PANEL_GROUP)]
            self.assertLess(group, module.__name__.rsplit(".", 1)[1])
