# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""HTTP endpoint for clock devices (考勤机).

    POST /<database>/office_admin/attendance/punches
    Authorization: Bearer <user application key of "office_admin">
    {"punches": [{"employee": "E001", "device": "GATE-1",
                  "timestamp": "2026-11-23T08:59:12+08:00",
                  "method": "fingerprint"}, ...]}

or a CSV body (Content-Type: text/csv) with the same columns, in UTF-8 or
GB18030/GBK (detected, or named with ?encoding=gbk). The answer lists the
rows stored, those already stored (a punch sent twice is stored once) and
those refused with the reason; refused rows never stop the others. A batch
over the limits (attendance.PUNCH_MAX_ROWS rows, PUNCH_MAX_BYTES bytes) is
refused whole with 413, a body that is not such JSON or CSV text with 400,
both as {"error": message}."""
import json

from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, exceptions, set_max_request_size,
    user_application, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

from .attendance import PUNCH_MAX_BYTES
from .exceptions import PunchBatchError, PunchBatchTooLarge

office_application = user_application('office_admin')


def _refusal(status, message):
    return Response(json.dumps({'error': message}, ensure_ascii=False),
        status=status, content_type='application/json')


# Werkzeug refuses a body over twice the limit without reading it; up to
# that the body is read and refused with the module's message
@app.route('/<database_name>/office_admin/attendance/punches',
    methods=['POST'])
@set_max_request_size(2 * PUNCH_MAX_BYTES)
@with_pool
@with_transaction()
@office_application
def punches(request, pool):
    User = pool.get('res.user')
    Line = pool.get('attendance.line')
    # The device's user records everyone's attendance: Human Resources only
    user = User(Transaction().user)
    if user not in User.users_in_group('office_admin.group_hr'):
        abort(HTTPStatus.FORBIDDEN)
    company = user.company
    if not company:
        abort(HTTPStatus.FORBIDDEN)
    with Transaction().set_context(company=company.id):
        try:
            try:
                data = request.get_data()
            except exceptions.RequestEntityTooLarge:
                Line.check_punch_batch(size=2 * PUNCH_MAX_BYTES + 1)
            content_type = (request.content_type or '').split(';')[0].strip()
            if content_type in {'text/csv', 'text/plain'}:
                return Line.intake_csv(data, company,
                    encoding=request.args.get('encoding'))
            return Line.intake_json(data, company)
        except PunchBatchTooLarge as exception:
            return _refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, exception.message)
        except PunchBatchError as exception:
            return _refusal(HTTPStatus.BAD_REQUEST, exception.message)
