# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, check_access


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def _office_model(cls, model_name):
        return model_name.startswith('office.') or model_name in {
            'attendance.line', 'attendance.sheet', 'attendance.sheet.line'}

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        if cls._office_model(model_name):
            context.update(User.get_office_context())
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        if any(cls._office_model(m) for m in model_names):
            context = User.get_office_context()
            key = (*key, context['user_id'], context['clearance_rank'],
                tuple(context['employees']),
                tuple(context['departments']),
                tuple(context['headed_departments']))
        return key


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('office.approval.step|check_timeouts',
                    "Office: Approval Timeouts"),
                ('office.deadline|escalate',
                    "Office: Escalate Overdue Deadlines"),
                ('office.calendar|seed_holidays_cron',
                    "Office: Seed Public Holidays"),
                ('office.meeting|send_reminders',
                    "Office: Meeting Reminders"),
                ('office.task|remind_due',
                    "Office: Remind Tasks Due Soon"),
                ('office.distribution|remind_unread',
                    "Office: Remind Unread Distributions"),
                ])


class ChatChannel(metaclass=PoolMeta):
    __name__ = 'ir.chat.channel'

    @classmethod
    def check_access(cls, resource):
        """Tryton checks only the model access of a chat; office records
        also check their record rules (secrecy, recipients), so that their
        conversation never shows what the record hides."""
        super().check_access(resource)
        pool = Pool()
        model, id_ = str(resource).split(',')
        if model.startswith('office.') and Transaction().user:
            Model = pool.get(model)
            with check_access():
                Model.read([int(id_)], ['id'])
