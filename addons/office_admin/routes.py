# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""HTTP endpoint for clock devices (考勤机).

    POST /<database>/office_admin/attendance/punches
    Authorization: Bearer <user application key of "office_admin">
    {"punches": [{"employee": "E001", "device": "GATE-1",
                  "timestamp": "2026-11-23T08:59:12+08:00",
                  "method": "fingerprint"}, ...]}

or a CSV body (Content-Type: text/csv) with the same columns. The answer
lists the rows stored, those already stored (a punch sent twice is stored
once) and those refused with the reason; refused rows never stop the
others."""
import trytond.config as config
from trytond.protocols.wrappers import (
    HTTPStatus, abort, set_max_request_size, user_application, with_pool,
    with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

office_application = user_application('office_admin')
MAX_PUNCHES = 10000


@app.route('/<database_name>/office_admin/attendance/punches',
    methods=['POST'])
@set_max_request_size(config.getint('request', 'max_size'))
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
        content_type = (request.content_type or '').split(';')[0].strip()
        if content_type in {'text/csv', 'text/plain'}:
            result = Line.intake_csv(request.get_data(), company)
        else:
            data = request.parsed_data
            rows = data.get('punches') if isinstance(data, dict) else None
            if not isinstance(rows, list):
                abort(HTTPStatus.BAD_REQUEST)
            if len(rows) > MAX_PUNCHES:
                abort(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            result = Line.intake(rows, company)
    return result
