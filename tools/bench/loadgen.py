# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Closed-loop HTTP load: wrk when it is installed, else Python threads.

Both drive one Target with ``concurrency`` clients, each sending its next
request as soon as the previous answer is read, for a warm-up and then a
measured window, and return the same figures (a Result). The measured
window is bracketed by two callbacks (``on_start``, ``on_end``), which the
benchmark uses to read CPU and database counters at exactly its edges.

The Python client is a minimal HTTP/1.1 client over a socket per thread:
requests are built once, answers are parsed only as far as the status line
and the headers that delimit the body. It keeps the connection open when
the server allows (gunicorn's sync workers close it after every answer).
Its threads share one interpreter, so it needs more CPU per request than
wrk; on a small machine that CPU is taken from the servers measured.
"""

import collections
import itertools
import math
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

REQUEST_TIMEOUT = 30


class Target(object):
    """What to request.

    :param method: the HTTP method.
    :param paths: request targets (path and query); clients take them in
        turn (``once=False``) or each at most once over the whole run,
        warm-up included (``once=True``: every signal applies to a
        deployment of its own).
    :param body: the request body (bytes) or None.
    :param headers: extra request headers.
    :param expect: the answer's expected status; any other counts as an
        error.
    :param expect_body: text the answer's body must contain (bytes), or
        None; an answer without it counts as an error ("body").
    """

    def __init__(self, method, paths, body=None, headers=None, expect=200,
                 once=False, expect_body=None):
        self.method = method
        self.paths = list(paths)
        self.body = body
        self.headers = dict(headers or {})
        self.expect = expect
        self.once = once
        self.expect_body = expect_body


class Result(object):
    """Figures of one measured window.

    :ivar requests: answers completed within the window.
    :ivar seconds: the window's length (shorter than asked for when a
        ``once`` target ran out of paths).
    :ivar errors: answers with another status than expected, and
        connection errors, by status (or error name).
    :ivar sent: requests started, warm-up included.
    :ivar exhausted: a ``once`` target ran out of paths.
    """

    def __init__(self, requests, seconds, p50, p99, errors, sent,
                 exhausted=False):
        self.requests = requests
        self.seconds = seconds
        self.p50_ms = p50
        self.p99_ms = p99
        self.errors = dict(errors)
        self.sent = sent
        self.exhausted = exhausted

    @property
    def requests_per_s(self):
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path():
    return shutil.which('wrk')


def percentile(ordered, pct):
    """Nearest-rank percentile of a sorted list, or None if it is empty."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(pct / 100.0 * len(ordered)) - 1)]


def build_request(host, target, path):
    lines = ['%s %s HTTP/1.1' % (target.method, path), 'Host: %s' % host]
    lines += ['%s: %s' % item for item in target.headers.items()]
    body = target.body or b''
    if target.body is not None or target.method in ('POST', 'PUT'):
        lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


_STATUS = re.compile(rb'^HTTP/1\.([01]) (\d{3})')


def read_response(sock, method):
    """Read one answer; returns (status, whether the connection stays,
    body).
    """
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('closed before the answer')
        data += chunk
    head, rest = data.split(b'\r\n\r\n', 1)
    lines = head.split(b'\r\n')
    match = _STATUS.match(lines[0])
    if match is None:
        raise ConnectionError('not HTTP: %r' % lines[0][:40])
    status = int(match.group(2))
    keep = match.group(1) == b'1'
    length = None
    chunked = False
    for line in lines[1:]:
        name, _sep, value = line.partition(b':')
        name = name.strip().lower()
        if name == b'content-length':
            length = int(value)
        elif name == b'connection':
            keep = value.strip().lower() != b'close'
        elif name == b'transfer-encoding':
            chunked = b'chunked' in value.lower()
    if method == 'HEAD' or status in (204, 304) or 100 <= status < 200:
        return status, keep, b''
    if chunked:
        while not rest.endswith(b'0\r\n\r\n'):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, keep, rest
    if length is None:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return status, False, rest
            rest += chunk
    while len(rest) < length:
        chunk = sock.recv(min(length - len(rest), 65536))
        if not chunk:
            raise ConnectionError('closed within the body')
        rest += chunk
    return status, keep, rest


def drive_python(base_url, target, concurrency, warmup, seconds,
                 on_start=None, on_end=None):
    """Run the load with Python threads; returns a Result."""
    host, port = _host_port(base_url)
    requests = [build_request('%s:%d' % (host, port), target, path)
                for path in target.paths]
    shared = itertools.count()
    start = time.monotonic() + 0.05
    measure_from = start + warmup
    measure_until = measure_from + seconds
    results = [None] * concurrency
    exhausted = threading.Event()

    def client(index):
        latencies = []
        statuses = collections.Counter()
        sent = 0
        own = itertools.count(index, concurrency)
        sock = None
        try:
            while time.monotonic() < measure_until:
                number = next(shared) if target.once else next(own)
                if target.once and number >= len(requests):
                    exhausted.set()
                    break
                began = time.monotonic()
                sent += 1
                try:
                    if sock is None:
                        sock = socket.create_connection(
                            (host, port), timeout=REQUEST_TIMEOUT)
                        sock.setsockopt(socket.IPPROTO_TCP,
                                        socket.TCP_NODELAY, 1)
                    sock.sendall(requests[number % len(requests)])
                    status, keep, body = read_response(sock,
                                                       target.method)
                    if (target.expect_body is not None
                            and status == target.expect
                            and target.expect_body not in body):
                        status = 'body'
                except OSError as err:
                    status, keep = type(err).__name__, False
                ended = time.monotonic()
                if not keep and sock is not None:
                    sock.close()
                    sock = None
                if measure_from <= ended <= measure_until:
                    latencies.append(ended - began)
                    statuses[status] += 1
        finally:
            if sock is not None:
                sock.close()
            results[index] = (latencies, statuses, sent)

    threads = [threading.Thread(target=client, args=(index,), daemon=True)
               for index in range(concurrency)]
    time.sleep(max(0.0, start - time.monotonic()))
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    if on_start:
        on_start()
    # Until the window ends, or every client stopped early (a once
    # target ran out of paths).
    while (time.monotonic() < measure_until
           and any(thread.is_alive() for thread in threads)):
        time.sleep(min(0.05, max(0.0, measure_until - time.monotonic())))
    ended = min(time.monotonic(), measure_until)
    if on_end:
        on_end()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT + 5)
    latencies = []
    statuses = collections.Counter()
    sent = 0
    for result in results:
        if result is not None:
            latencies.extend(result[0])
            statuses.update(result[1])
            sent += result[2]
    latencies.sort()
    errors = {str(status): count for status, count in statuses.items()
              if status != target.expect}
    return Result(
        requests=len(latencies), seconds=max(0.0, ended - measure_from),
        p50=_ms(percentile(latencies, 50)),
        p99=_ms(percentile(latencies, 99)),
        errors=errors, sent=sent, exhausted=exhausted.is_set())


def _ms(value):
    return None if value is None else value * 1000.0


def _host_port(base_url):
    match = re.match(r'^http://([^:/]+):(\d+)$', base_url)
    if match is None:
        raise ValueError('expected http://host:port, not %s' % base_url)
    return match.group(1), int(match.group(2))


def _lua_string(text):
    return '"%s"' % ''.join(
        ch if 32 <= ord(ch) < 127 and ch not in '"\\' else '\\%03d' % ord(ch)
        for ch in text)


_LUA = '''
-- Written by tools/bench/loadgen.py for one wrk run.
local method = %(method)s
local body = %(body)s
local headers = {%(headers)s}
local paths_file = %(paths_file)s
local once = %(once)s
local expect = %(expect)d
local expect_body = %(expect_body)s

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(args[1])
  paths = {}
  local line_number = 0
  for line in io.lines(paths_file) do
    -- A once target: each thread a slice of its own.
    if not once or line_number %% nthreads == id then
      table.insert(paths, line)
    end
    line_number = line_number + 1
  end
  next_path = (once and 0) or (id %% #paths)
  unexpected = 0
  statuses = {}
  exhausted = 0
end

function request()
  next_path = next_path + 1
  if next_path > #paths then
    if once then
      exhausted = 1
      wrk.thread:stop()
      next_path = #paths
    else
      next_path = 1
    end
  end
  return wrk.format(method, paths[next_path], headers, body)
end

function response(status, headers, body)
  local key = nil
  if status ~= expect then
    key = tostring(status)
  elseif expect_body and not string.find(body or "", expect_body, 1, true)
  then
    key = "body"
  end
  if key then
    unexpected = unexpected + 1
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local out = io.open(%(result_file)s, "w")
  out:write(string.format("requests %%d\\n", summary.requests))
  out:write(string.format("duration_us %%d\\n", summary.duration))
  out:write(string.format("p50_us %%d\\n", latency:percentile(50)))
  out:write(string.format("p99_us %%d\\n", latency:percentile(99)))
  for _, name in ipairs({"connect", "read", "write", "timeout"}) do
    out:write(string.format("error_%%s %%d\\n", name, summary.errors[name]))
  end
  for _, thread in ipairs(threads) do
    out:write(string.format("exhausted %%d\\n", thread:get("exhausted")))
    local counts = thread:get("statuses")
    for key, count in pairs(counts) do
      out:write(string.format("status_%%s %%d\\n", key, count))
    end
  end
  out:close()
end
'''


def drive_wrk(base_url, target, concurrency, warmup, seconds,
              on_start=None, on_end=None, wrk=None):
    """Run the load with wrk; returns a Result.

    The warm-up is a wrk run of its own (whole seconds, as wrk takes
    them) before the measured one; a ``once`` target's paths are split
    between the two in proportion.
    """
    wrk = wrk or wrk_path()
    workdir = tempfile.mkdtemp(prefix='hd-bench-wrk-')
    try:
        warm_seconds = int(math.ceil(warmup)) if warmup > 0 else 0
        run_seconds = max(1, int(math.ceil(seconds)))
        paths = target.paths
        if target.once and warm_seconds:
            cut = len(paths) * warm_seconds // (warm_seconds + run_seconds)
            warm_paths, run_paths = paths[:cut], paths[cut:]
        else:
            warm_paths = run_paths = paths
        if warm_seconds:
            _run_wrk(wrk, workdir, base_url, target, warm_paths,
                     concurrency, warm_seconds)
        if on_start:
            on_start()
        figures = _run_wrk(wrk, workdir, base_url, target, run_paths,
                           concurrency, run_seconds)
        if on_end:
            on_end()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    errors = {key: value for key, value in figures['errors'].items()
              if value}
    return Result(
        requests=figures['requests'], seconds=figures['seconds'],
        p50=figures['p50_ms'], p99=figures['p99_ms'], errors=errors,
        sent=figures['requests'], exhausted=figures['exhausted'])


def _run_wrk(wrk, workdir, base_url, target, paths, concurrency, seconds):
    threads = max(1, min(concurrency, os.cpu_count() or 1, 4))
    paths_file = os.path.join(workdir, 'paths')
    result_file = os.path.join(workdir, 'result')
    script = os.path.join(workdir, 'script.lua')
    with open(paths_file, 'w') as out:
        out.write('\n'.join(paths) + '\n')
    headers = ', '.join('[%s] = %s' % (_lua_string(name),
                                       _lua_string(value))
                        for name, value in target.headers.items())
    with open(script, 'w') as out:
        out.write(_LUA % {
            'method': _lua_string(target.method),
            'body': ('nil' if target.body is None
                     else _lua_string(target.body.decode('latin-1'))),
            'headers': headers, 'paths_file': _lua_string(paths_file),
            'once': 'true' if target.once else 'false',
            'expect': target.expect,
            'expect_body': ('nil' if target.expect_body is None
                            else _lua_string(
                                target.expect_body.decode('latin-1'))),
            'result_file': _lua_string(result_file)})
    if os.path.exists(result_file):
        os.unlink(result_file)
    out = subprocess.run(
        [wrk, '-t', str(threads), '-c', str(concurrency),
         '-d', '%ds' % seconds, '-T', '%ds' % REQUEST_TIMEOUT,
         '-s', script, base_url, '--', str(threads)],
        capture_output=True, text=True, timeout=seconds + REQUEST_TIMEOUT
        + 30)
    if out.returncode != 0 or not os.path.exists(result_file):
        raise RuntimeError('wrk failed (%d): %s%s'
                           % (out.returncode, out.stdout, out.stderr))
    figures = {'errors': collections.Counter(), 'exhausted': False}
    with open(result_file) as result:
        for line in result:
            name, value = line.split()
            value = int(value)
            if name.startswith('status_'):
                figures['errors'][name[len('status_'):]] += value
            elif name.startswith('error_'):
                figures['errors']['socket ' + name[len('error_'):]] += value
            elif name == 'exhausted':
                figures['exhausted'] = figures['exhausted'] or bool(value)
            else:
                figures[name] = value
    return {'requests': figures['requests'],
            'seconds': figures['duration_us'] / 1e6,
            'p50_ms': figures['p50_us'] / 1000.0,
            'p99_ms': figures['p99_us'] / 1000.0,
            'errors': figures['errors'],
            'exhausted': figures['exhausted']}


def drive(base_url, target, concurrency, warmup, seconds, on_start=None,
          on_end=None, generator='auto'):
    """Run the load with ``generator`` (wrk, python, or auto: wrk if on
    PATH); returns (Result, generator used).
    """
    if generator == 'auto':
        generator = 'wrk' if wrk_path() else 'python'
    if generator == 'wrk':
        return drive_wrk(base_url, target, concurrency, warmup, seconds,
                         on_start, on_end), 'wrk'
    return drive_python(base_url, target, concurrency, warmup, seconds,
                        on_start, on_end), 'python'
