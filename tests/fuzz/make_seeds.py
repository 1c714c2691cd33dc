#!/usr/bin/env python3
"""Write the seed corpora tests/fuzz/corpus/{fuzz_api,fuzz_http}/ and the
hand-made regression inputs in tests/fuzz/regress/fuzz_api/.

    python3 tests/fuzz/make_seeds.py

The files are checked in; this script says what each one is and makes
them again after a change of input format. The formats are described at
the top of fuzz_api.c and fuzz_http.c. Inputs the fuzzers found are kept
as they were found, next to these (regress/<harness>/*_found*), and are
not written here.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- fuzz_api
(SEND, RECV, SELECT, CLOSE, SPAWN, JOIN, CANCEL, SLEEP, MUTEX, SEM, QPUT, QGET,
 QMISC, EVENT, FAIL, CHECK, GEN, GROUP) = range(18)
TRY, ZERO, TIMED, BLOCK = 0, 1, 2, 3      # b & 3 of channel, queue, event ops


def T(i):
    """Timed, with the i-th small timeout (0: 1 us, 1: 20 us, 2: 100 us)."""
    return TIMED | (i << 2)


def api(name, cfg, ops, where='corpus'):
    """cfg: bit 0 16 KiB stacks, bits 1-7 a GOC_CHAOS seed. SPAWN's a and
    GROUP go's b are written here as the child's op count k (>= 1)."""
    out = bytearray([cfg])
    for op, a, b in ops:
        if op == SPAWN:
            a -= 1
        if op == GROUP and a & 3 == 0:
            b -= 1
        out += bytes([op, a, b])
    assert len(ops) <= 64, name
    with open(os.path.join(HERE, where, 'fuzz_api', name), 'wb') as f:
        f.write(out)


def api_seeds():
    api('chan_basic', 0, [
        (SEND, 1, TRY), (SEND, 1, TRY), (SEND, 2, TRY), (SEND, 2, ZERO), (RECV, 1, TRY),
        (RECV, 2, TRY), (SEND, 3, TRY), (RECV, 3, ZERO), (CLOSE, 2, 0), (RECV, 2, TRY),
        (RECV, 2, TRY), (SEND, 2, TRY), (CLOSE, 2, 0), (RECV, 0, TRY), (SEND, 0, T(0)),
        (CHECK, 2, 0), (CHECK, 3, 0)])
    api('unbuffered_pingpong', 0, [
        (SPAWN, 2, 0), (RECV, 0, BLOCK), (SEND, 0, BLOCK),
        (SEND, 0, T(2)), (RECV, 0, T(2)), (SPAWN, 1, 0), (SEND, 0, BLOCK), (RECV, 0, T(2)),
        (JOIN, 1, 2), (JOIN, 2, T(2))])
    api('select_multi', 0x0b, [
        (SEND, 1, TRY), (SELECT, 0x0f, ZERO), (SELECT, 0xff, ZERO | 0x10),
        (SELECT, 0x36, T(1) | 0x20), (SPAWN, 2, 0), (SELECT, 0x0f, BLOCK),
        (SELECT, 0x00, BLOCK), (SELECT, 0x01, T(2)), (SELECT, 0x00, ZERO),
        (SELECT, 0x00, T(0) | 0x10), (CLOSE, 1, 0), (SELECT, 0x12, ZERO | 0x20),
        (CHECK, 1, 0)])
    api('cancel_join', 0, [
        (SPAWN, 2, 0), (RECV, 0, BLOCK), (CHECK, 0, 0), (SPAWN, 1, 0), (FAIL, 0, 0),
        (SPAWN, 2, 0), (SLEEP, 0, 1), (SEND, 0, BLOCK), (CHECK, 1, 0), (CANCEL, 1, 0),
        (SLEEP, 0, 0), (JOIN, 2, 1), (JOIN, 3, T(0)), (CHECK, 1, 0), (JOIN, 1, 0)])
    api('mutex_sem', 0x10, [
        (MUTEX, 0, 0), (SPAWN, 3, 0), (MUTEX, 1, 0), (SLEEP, 0, 1), (MUTEX, 2, 0),
        (SPAWN, 2, 0), (SEM, 1, 0), (SEM, 1, 0), (SEM, 0, 0), (SEM, 0, 0), (SEM, 3, 0),
        (SLEEP, 0, 1 | 8), (MUTEX, 2, 0), (SLEEP, 0, 2), (MUTEX, 3, 0), (SEM, 2, 0),
        (SEM, 3, 0), (CANCEL, 2, 0), (JOIN, 1, T(2)), (JOIN, 2, 0)])
    api('queue_event', 0, [
        (QPUT, 0, TRY), (QPUT, 0, ZERO), (QPUT, 0, T(1)), (SPAWN, 3, 0), (QGET, 0, BLOCK),
        (QMISC, 0, 0), (EVENT, 2, BLOCK), (QMISC, 1, ZERO), (QGET, 0, TRY), (QMISC, 0, 0),
        (QMISC, 0, 0), (QMISC, 1, T(0)), (EVENT, 2, ZERO), (EVENT, 0, 0), (EVENT, 2, ZERO),
        (EVENT, 1, 0), (CLOSE, 4, 0), (QPUT, 0, TRY), (QGET, 0, TRY), (QGET, 0, T(0)),
        (CLOSE, 4, 0), (JOIN, 1, T(2))])
    api('go_children_shutdown', 0, [
        (SPAWN, 1, 1), (RECV, 0, BLOCK), (SPAWN, 2, 1), (MUTEX, 1, 0), (SEND, 3, BLOCK),
        (SPAWN, 1, 1), (QGET, 0, BLOCK), (SLEEP, 0, 1), (MUTEX, 0, 0), (CHECK, 0, 0),
        (SEND, 0, T(1))])
    api('nested_spawn', 0, [
        (SPAWN, 5, 0), (SPAWN, 2, 0), (SEND, 2, BLOCK), (CANCEL, 0, 0), (RECV, 2, BLOCK),
        (JOIN, 2, 3), (SPAWN, 1, 1), (SELECT, 0x44, T(1)), (SLEEP, 0, 2), (RECV, 2, T(0)),
        (CHECK, 1, 0)])
    api('close_wakes', 0x06, [
        (SPAWN, 1, 0), (RECV, 0, BLOCK), (SPAWN, 1, 0), (SEND, 0, BLOCK), (SPAWN, 1, 0),
        (SEND, 1, BLOCK), (SEND, 1, TRY), (SPAWN, 1, 0), (SELECT, 0x03, BLOCK),
        (SLEEP, 0, 0), (CLOSE, 0, 0), (CLOSE, 1, 0), (SLEEP, 0, 0), (RECV, 1, TRY),
        (RECV, 1, TRY), (CHECK, 1, 0)])
    # GEN a: bits 0-1 0 new (b % 5 values) / 1 next / 2 close / 3 next(0);
    # bit 2: the slot. GROUP a & 3: 0 go (b: k ops), 1 cancel, 2 wait.
    api('gen_group', 0, [
        (GEN, 0, 3), (GEN, 1, 1), (GEN, 1, 2), (GEN, 3, 0), (GEN, 1, 3), (GEN, 1, 3),
        (GEN, 1, 3), (GEN, 1, 3), (GEN, 2, 0), (GEN, 4, 4), (GEN, 6, 0),
        (GROUP, 0, 2), (RECV, 0, 3), (SEND, 0, 3), (GROUP, 0, 1), (FAIL, 0, 0),
        (SLEEP, 0, 1), (GROUP, 2, 0), (GROUP, 0, 1), (SLEEP, 0, 0),
        (GEN, 4, 2), (GEN, 5, 3), (SPAWN, 2, 0), (GEN, 5, 3), (GEN, 5, 3),
        (GROUP, 1, 0), (GROUP, 2, 0)])
    api('gen_two_consumers', 0x14, [
        (GEN, 0, 4), (GEN, 3, 0), (SPAWN, 2, 0), (GEN, 1, 3), (GEN, 1, 3),
        (SPAWN, 2, 1), (GEN, 1, 3), (GEN, 2, 0), (GEN, 1, 1), (SLEEP, 0, 0),
        (GEN, 1, 0), (GROUP, 0, 2), (GEN, 1, 3), (MUTEX, 1, 0), (GEN, 2, 0)])


def api_regress():
    """Each scenario once made fuzz_api report a failure that was the
    harness's model being wrong, not the runtime; kept so that the model
    stays right. FUZZ_API_TRACE=1 shows each one happen."""
    def r(name, cfg, ops):
        api(name, cfg, ops, where='regress')
    # goc_wait_for's timeout cancels the task: its recv returns GOC_ECANCELED.
    r('wait_for_timeout_cancels_task', 0, [(SPAWN, 1, 0), (RECV, 0, BLOCK), (JOIN, 1, 2)])
    # fn yielded its last value for a next(0), the close stops fn at its
    # next yield, and a next meanwhile still gets that value (not lost).
    r('gen_value_kept_through_close', 0, [
        (GEN, 0, 1), (GEN, 3, 0), (SPAWN, 2, 1), (SLEEP, 0, 2), (GEN, 3, 0), (SLEEP, 0, 2),
        (GEN, 2, 0)])
    # A next while a close is under way and fn never started: GOC_ECLOSED.
    r('gen_eclosed_closed_before_start', 0, [(GEN, 0, 3), (SPAWN, 1, 1), (GEN, 1, 3), (GEN, 2, 0)])
    # A close while another close is under way: GOC_EBUSY.
    r('gen_close_beside_close', 0, [(GEN, 0, 3), (SPAWN, 1, 1), (GEN, 2, 0), (GEN, 2, 0)])
    # A next beside another next that was served but has not returned: it
    # does not get GOC_EBUSY, it asks for the next value (GOC_CHAOS 1).
    r('gen_next_beside_served_next', 1 << 1, [
        (GEN, 0, 4), (SPAWN, 1, 1), (GEN, 1, 3), (SPAWN, 1, 1), (GEN, 1, 3), (SLEEP, 0, 2),
        (GEN, 1, 3), (SLEEP, 0, 2), (GEN, 1, 3)])
    # A close beside such a served next goes ahead (GOC_CHAOS 1).
    r('gen_close_beside_served_next', 1 << 1, [
        (GEN, 0, 4), (SPAWN, 1, 1), (GEN, 1, 3), (SPAWN, 1, 1), (GEN, 2, 0), (SLEEP, 0, 2),
        (GEN, 3, 0), (SLEEP, 0, 2), (GEN, 2, 0)])
    # A goc_go coroutine outlives main, which has freed the group and
    # closed the generators by then: its group and generator calls are
    # skipped (the harness once used the freed group, and leaked a
    # generator made after main had closed them).
    r('after_main_group_and_gen', 0, [(SPAWN, 3, 1), (SLEEP, 0, 1 | 8), (GROUP, 1, 0), (GEN, 0, 2)])


# --------------------------------------------------------------- fuzz_http
def http(name, data):
    with open(os.path.join(HERE, 'corpus', 'fuzz_http', name), 'wb') as f:
        f.write(data)


def http_seeds():
    # ctl '0': the rest is the stream; '1'..'7': that many piece sizes
    # first; '8': amplify (off u16, len-1 u8, count u16), then the stream.
    http('get', b'0GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88\r\n'
                b'Accept: */*\r\n\r\n')
    http('head_http10_keepalive', b'0HEAD /index.html HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')
    http('pipelined', b'0GET / HTTP/1.1\r\n\r\nPOST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\n'
                      b'helloGET /c HTTP/1.1\r\nConnection: close\r\n\r\n'
                      b'GET /after HTTP/1.1\r\n\r\n')
    http('chunked_501', b'0POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
                        b'5\r\nhello\r\n0\r\n\r\n')
    http('bad_request_line', b'0GET /\r\n\r\nGET / HTTP/1.1\r\n\r\n')
    http('bad_length', b'0PUT / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n')
    http('body_413', b'0POST / HTTP/1.1\r\nContent-Length:  9000 \r\n\r\n')
    s = b'GET / HTTP/1.1\r\nX-Big: aaaaaaaa\r\n\r\n'
    http('oversized_head_431', b'8' + struct.pack('<HBH', 23, 7, 1100) + s)
    http('pieces', b'3' + bytes([0, 6, 200]) +
         b'GET /a HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n'
         b'DELETE /b HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc')
    # At the buffer's edge (IN_CAP 8192): head + body exactly 8192 bytes
    # (200, then a pipelined request after it), one byte more (413), a head
    # that fills the buffer without ending (431).
    def exact(length, body):
        head = b'POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n' % length
        stream = head + b'x' + b'GET / HTTP/1.1\r\n\r\n'
        return b'8' + struct.pack('<HBH', len(head), 0, body - 1) + stream
    http('exact_fit_8192', exact(8192 - 41, 8192 - 41))
    http('body_one_over_413', exact(8192 - 41 + 1, 8192 - 41 + 1))
    http('head_fills_buffer_431', b'8' + struct.pack('<HBH', 20, 0, 8200) +
         b'GET / HTTP/1.1\r\nX: aaaa')
    http('garbage', b'0\x00\xff\r\n\r\n \x7fHTTP/1.\r\r\n\n\r\n\r\nA B HTTP/1.1\r\n\r\n\x80\x81')


if __name__ == '__main__':
    for d in ('corpus/fuzz_api', 'corpus/fuzz_http', 'regress/fuzz_api'):
        os.makedirs(os.path.join(HERE, d), exist_ok=True)
    api_seeds()
    api_regress()
    http_seeds()
