# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import AccessError, ValidationError


class ApprovalError(UserError):
    pass


class ApprovalAccessError(AccessError):
    pass


class ApprovalWarning(UserWarning):
    pass


class CalendarError(ValidationError):
    pass


class DeadlineError(ValidationError):
    pass


class SealRequestError(UserError):
    pass


class DepartmentError(ValidationError):
    pass


class DistributionError(UserError):
    pass


class MeetingError(ValidationError):
    pass


class MeetingWarning(UserWarning):
    pass


class DocumentError(UserError):
    pass


class ArchiveError(UserError):
    pass


class SupplyError(UserError):
    pass


class SupplyWarning(UserWarning):
    pass


class SupplyValidationError(ValidationError):
    pass


class AttendanceError(UserError):
    pass


class PunchBatchError(AttendanceError):
    "A batch of punches refused whole: not JSON or CSV text (HTTP 400)"


class PunchBatchTooLarge(PunchBatchError):
    "A batch of punches over the row or byte limit (HTTP 413)"


class SecrecyWarning(UserWarning):
    pass
