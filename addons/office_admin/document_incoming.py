# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Scans and e-mails that arrive in Tryton's incoming-document inbox
(`document_incoming`) become official incoming documents (收文): the inbox
item is processed with the type "Official Incoming Document", which
registers and numbers the document and attaches the file to it."""
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta


class Incoming(metaclass=PoolMeta):
    __name__ = 'document.incoming'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.type.selection.append(
            ('office_document_incoming', "Official Incoming Document (收文)"))

    @classmethod
    def _get_results(cls):
        return super()._get_results() | {'office.document.incoming'}

    def _process_office_document_incoming(self):
        pool = Pool()
        Official = pool.get('office.document.incoming')
        Type = pool.get('office.document.type')
        types = Type.search([('direction', '=', 'incoming')], limit=1)
        return Official(
            company=self.company,
            title=self.name.rsplit('.', 1)[0] if self.name else self.name,
            sender=self.source or gettext(
                'office_admin.msg_incoming_unknown_sender'),
            type=types[0] if types else None,
            medium='electronic')
