# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Id

from .exceptions import SealRequestError


class Configuration(ModelSingleton, ModelSQL, ModelView):
    __name__ = 'office.configuration'

    seal_request_sequence = fields.Many2One(
        'ir.sequence', "Seal Request Sequence",
        domain=[
            ('sequence_type', '=',
                Id('office_admin', 'sequence_type_seal_request')),
            ],
        help="Numbers seal requests when they are submitted.")
    meeting_reminder_minutes = fields.Integer(
        "Meeting Reminder (minutes)",
        domain=[['OR',
                ('meeting_reminder_minutes', '=', None),
                ('meeting_reminder_minutes', '>', 0)]],
        help="How long before a meeting its attendees are reminded.")

    @classmethod
    def default_meeting_reminder_minutes(cls):
        return 30

    @classmethod
    def default_seal_request_sequence(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        try:
            return ModelData.get_id('office_admin', 'sequence_seal_request')
        except KeyError:
            return None

    def get_seal_request_sequence(self):
        sequence = self.seal_request_sequence
        if not sequence:
            default = self.default_seal_request_sequence()
            if default is None:
                raise SealRequestError(gettext(
                        'office_admin.msg_seal_request_no_sequence'))
            sequence = Pool().get('ir.sequence')(default)
        return sequence
