"""Fail unless the MariaDB and RabbitMQ tests ran and none were skipped.

Reads pytest's JUnit XML. A test counts as a MariaDB test if its id says
``mariadb`` (the parametrised backends) and as a RabbitMQ test if it lives
in a ``test_rpc``/rabbit module or its id says ``rabbit``.
"""
import sys
import xml.etree.ElementTree as ET


def classify(case):
    ident = (case.get("classname", "") + "::" + case.get("name", "")).lower()
    kinds = []
    if "mariadb" in ident:
        kinds.append("MariaDB")
    if "rabbit" in ident or "test_rpc" in ident:
        kinds.append("RabbitMQ")
    return kinds


def main(path):
    root = ET.parse(path).getroot()
    ran = {"MariaDB": 0, "RabbitMQ": 0}
    problems = []
    for case in root.iter("testcase"):
        for kind in classify(case):
            if case.find("skipped") is not None:
                problems.append("%s test skipped: %s::%s" % (
                    kind, case.get("classname"), case.get("name")))
            else:
                ran[kind] += 1
    for kind, count in ran.items():
        if count == 0:
            problems.append("no %s test ran" % kind)
    for line in problems:
        print("check_services: " + line, file=sys.stderr)
    print("check_services: MariaDB tests run: %(MariaDB)d, RabbitMQ tests "
          "run: %(RabbitMQ)d" % ran)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
