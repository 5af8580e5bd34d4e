"""Our RouterOS script syntax check: valid samples pass, each kind of mistake is found."""

from __future__ import annotations

import pytest

from easyisp_core.onboarding.syntax import check_script

VALID = [
    "/ip address add address=10.0.0.1/24 interface=ether1",
    '/system identity set name="Hill \\"A\\" \\$1 \\? \\_ \\n \\t \\\\ \\C3\\A9"',
    "/interface/wireguard/peers/print",
    '# a comment with "odd" quotes and $ and [ brackets\n/ip service print',
    '/ip firewall filter\nadd chain=input \\\n    action=accept comment="split \\\nstring"',
    ':if ([:len [/ip firewall filter find]] = 0) do={ :put "empty" } else={ :put "some" }',
    ':do {\n  /radius set [find] timeout=3s\n} on-error={ :log warning "no" }',
    ":global a 1; :local b 2",
    "/ip hotspot profile\nset [find] use-radius=yes",
    "",
    "\n\n/ppp aaa set use-radius=yes\n",
    "/ip firewall filter\r\nadd chain=input \\\r\n    action=accept\r\n",
]

INVALID = [
    ('/system identity set name="open', "not closed"),
    ('/system identity set name="bad \\q escape"', "invalid escape"),
    ('/system identity set name="half hex \\A"', "invalid escape"),
    ("/ip address add address=1.2.3.4 \\ x", "continuation"),
    (":if (true) do={ :put 1 ", "never closed"),
    ("/ip address print ]", "unexpected"),
    (":put [:len [find]", "never closed"),
    ("reboot now", "cannot start with 'reboot'"),
    ("add x=1\nfrobnicate y", "cannot start with 'frobnicate'"),
    ("/Ip/Address print", "bad menu path"),
    ('/system identity set name="one\nline"', "not closed"),
]


@pytest.mark.parametrize("script", VALID)
def test_valid_scripts_pass(script: str) -> None:
    assert check_script(script) == []


@pytest.mark.parametrize(("script", "message"), INVALID)
def test_each_mistake_is_reported(script: str, message: str) -> None:
    problems = check_script(script)
    assert problems, script
    assert any(message in p.message for p in problems), [str(p) for p in problems]


def test_problems_say_where() -> None:
    problems = check_script('/ip service print\n/system identity set name="x\\q"')
    assert [(p.line, p.column) for p in problems] == [(2, 29)]
    assert str(problems[0]).startswith("line 2, column 29:")
