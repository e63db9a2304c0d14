# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The web client's own strings (login, preferences, notifications...) are
in Chinese: sao's zh_CN with the strings web/locale/zh_CN.json adds.

The server's side (menus, views, buttons, notices of an office user) is
tested by the module test trytond.modules.office_admin.tests.
test_translation."""
import json
import re

import polib
import pytest

from serverkit import ROOT

SAO = ROOT / 'web' / 'node_modules' / 'tryton-sao'
OVERLAY = ROOT / 'web' / 'locale' / 'zh_CN.json'
PLACEHOLDER = re.compile(r'%\d+')


def _translations():
    "sao's zh_CN.json with web/locale/zh_CN.json over it"
    translations = json.loads((SAO / 'locale' / 'zh_CN.json').read_text())
    translations.update(json.loads(OVERLAY.read_text()))
    return translations


@pytest.mark.skipif(not SAO.exists(), reason="web client not installed")
def test_sao_strings_are_chinese():
    "Every string of sao has its zh_CN translation"
    translations = _translations()
    missing, wrong = [], []
    for entry in polib.pofile(str(SAO / 'locale' / 'messages.pot')):
        value = translations.get(entry.msgid)
        if not value or not any(value[1:]):
            missing.append(entry.msgid)
        elif any(sorted(PLACEHOLDER.findall(text))
                != sorted(PLACEHOLDER.findall(entry.msgid))
                for text in value[1:]):
            wrong.append('%s -> %s' % (entry.msgid, value[1:]))
    assert not missing, '%d untranslated:\n%s' % (
        len(missing), '\n'.join(missing))
    assert not wrong, 'placeholders lost:\n%s' % '\n'.join(wrong)


def test_overlay_only_translates_sao_strings():
    "web/locale/zh_CN.json adds translations of sao's strings only"
    overlay = json.loads(OVERLAY.read_text())
    if not SAO.exists():
        pytest.skip("web client not installed")
    msgids = {e.msgid for e in polib.pofile(
            str(SAO / 'locale' / 'messages.pot'))}
    assert set(overlay) - {''} <= msgids
