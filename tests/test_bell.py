# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The bell: what trytond's bus carries to each user after an action, on
PostgreSQL (pg_notify on channel 'bus', read here with LISTEN)."""
import json

import psycopg

SEAL_REQUEST = 'office.seal.request'


def listen(server):
    connection = psycopg.connect(
        f'{server.pg_uri}/{server.database}', autocommit=True)
    connection.execute('LISTEN bus')
    return connection


def bells(connection):
    "The user-notification messages received, as {user id: [message]}"
    received = {}
    for notify in connection.notifies(timeout=2):
        payload = json.loads(notify.payload)
        channel = payload['channel']
        if (channel.startswith('notification:')
                and payload['message']['type'] == 'user-notification'):
            received.setdefault(int(channel.split(':')[1]), []).append(
                payload['message'])
    return received


def unread(connection, user_id):
    return connection.execute(
        'SELECT COUNT(*) FROM res_notification '
        'WHERE "user" = %s AND unread', (user_id,)).fetchone()[0]


def test_approve_rings_each_bell_once_with_its_count(server):
    """An approve marks the reviewer's notice read and tells the requester
    and the next reviewer: each of the three gets one message, after the
    commit, with his unread count and the new notice"""
    requester = server.client('sales1')
    head = server.client('sales_head')
    office = server.client('office_head')
    seal, = requester.search('office.seal', [('code', '=', 'GZ')])
    request_id, = requester.model(SEAL_REQUEST, 'create', [dict(
                seal=seal, document_title="铃声测试", purpose="bell")])
    connection = listen(server)
    try:
        requester.model(SEAL_REQUEST, 'submit', [request_id])
        number = requester.read(
            SEAL_REQUEST, [request_id], ['rec_name'])[0]['rec_name']
        submitted = bells(connection)
        # The head is asked to review: one message with the new notice
        assert list(submitted) == [head.user_id]
        message, = submitted[head.user_id]
        assert message['count'] == unread(connection, head.user_id) > 0
        assert any(number in c for c in message['content'])

        head.model(SEAL_REQUEST, 'approval_approve', [request_id])
        approved = bells(connection)
        assert sorted(approved) == sorted(
            [head.user_id, requester.user_id, office.user_id])
        for user_id, messages in approved.items():
            message, = messages
            assert message['count'] == unread(connection, user_id)
        # The head's notice is read: his bell went down by one
        assert approved[head.user_id][0]['count'] == message_count(
            submitted, head.user_id) - 1
        for user_id in [requester.user_id, office.user_id]:
            assert any(number in c
                for c in approved[user_id][0]['content'])
    finally:
        connection.close()


def message_count(received, user_id):
    message, = received[user_id]
    return message['count']
