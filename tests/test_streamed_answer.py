# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A large JSON-RPC answer travels in large pieces.

trytond streams an answer of more than 1,400 bytes as the JSON encoder's
tokens (123,539 HTTP chunks for this one); office_admin encodes it in one
piece (OneShotEncoder) and sends streamed bodies in pieces of 64 KiB
(BufferedBody), so gunicorn does not send one chunk (and one system call)
per token."""
import http.client
import json
import urllib.parse


def chunks(response):
    "Return the sizes of the HTTP chunks of a chunked response"
    sizes = []
    while True:
        line = response.fp.readline()
        size = int(line.split(b';', 1)[0], 16)
        if not size:
            break
        response.fp.read(size)
        response.fp.readline()
        sizes.append(size)
    return sizes


def test_large_answer_in_large_chunks(server):
    client = server.client('admin')
    url = urllib.parse.urlsplit(client.url)
    body = json.dumps({'id': 1, 'method': 'model.ir.model.field.search_read',
            'params': [[], 0, None, None,
                ['name', 'model', 'string', 'relation'],
                client.context]})
    connection = http.client.HTTPConnection(url.hostname, url.port,
        timeout=60)
    try:
        connection.request('POST', url.path, body=body, headers={
                'Content-Type': 'application/json',
                'Authorization': f'Session {client.session}',
                })
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader('Transfer-Encoding') == 'chunked'
        # Read the chunks as they came, not decoded by http.client
        response.chunked = False
        sizes = chunks(response)
    finally:
        connection.close()
    total = sum(sizes)
    assert total > 200_000
    # 64 KiB pieces (the last one smaller), not one chunk per JSON token
    assert len(sizes) <= total // (64 * 1024) + 1
    assert all(s >= 64 * 1024 for s in sizes[:-1])
