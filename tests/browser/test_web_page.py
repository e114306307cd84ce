#!/usr/bin/python3
"""Browser test of `thg serve`'s web page (lib/serve/web), driven by Selenium + headless Chromium.

  python3 tests/browser/test_web_page.py --thg build/apps/thg \
      --portrait examples/astronaut.png --audio examples/speech.wav \
      [--screenshot docs/web-page.png] [--timeout 300] [--serve-arg=--device=cpu ...]

Starts `thg serve --port 0 --data-dir <tmp>`, opens the page, checks that it loads nothing from
any host but 127.0.0.1, uploads the portrait and the audio, waits for the face preview, clicks
Generate, waits for the video and checks its duration (the audio's, within 0.15 s), that it plays,
and that the jobs table lists the job as done.

Exit status: 0 passed; 1 failed (one line `FAIL: <reason>`); 77 skipped (no selenium/chromium).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP = 77
CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
SYSTEM_PYTHON = '/usr/bin/python3'
ALLOWED_HOSTS = {'127.0.0.1'}


class Failure(Exception):
    pass


def skip(why):
    print('SKIP: ' + why)
    sys.exit(SKIP)


def import_selenium():
    try:
        import selenium  # noqa: F401
        return
    except ImportError:
        pass
    # Debian's python3-selenium lives in the system Python; re-run there when started by another
    # python3 (a virtualenv, pyenv) that lacks it.
    if (os.path.exists(SYSTEM_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)
            and not os.environ.get('THG_BROWSER_TEST_REEXEC')):
        os.environ['THG_BROWSER_TEST_REEXEC'] = '1'
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
    skip('selenium is not installed (apt-get install python3-selenium)')


def log(msg, t0):
    print('[%6.1f s] %s' % (time.monotonic() - t0, msg), flush=True)


def audio_duration(path):
    try:
        out = subprocess.run(['ffprobe', '-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path],
                             capture_output=True, text=True, check=True, timeout=60).stdout
        return float(out.strip().splitlines()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
        raise Failure('ffprobe could not read the audio duration of %s: %s' % (path, e))


def tail(path, n=25):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-n:])
    except OSError:
        return ''


def start_server(thg, data_dir, extra_args, log_path):
    cmd = [thg, 'serve', '--port', '0', '--data-dir', data_dir] + extra_args
    log_file = open(log_path, 'wb')
    try:
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    except OSError as e:
        raise Failure('cannot start %s: %s' % (thg, e))
    finally:
        log_file.close()
    return proc


def wait_for_port(proc, data_dir, timeout=120.0):
    port_file = os.path.join(data_dir, 'port')
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure('thg serve exited with status %d before listening' % proc.returncode)
        try:
            with open(port_file) as f:
                text = f.read().strip()
            port = int(text)
            if 0 < port < 65536:
                return port
        except (OSError, ValueError):
            pass  # not written yet (or half written)
        time.sleep(0.2)
    raise Failure('thg serve wrote no %s within %.0f s' % (port_file, timeout))


def stop_server(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def http_get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, dict(res.headers), res.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def make_driver(log_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
              '--window-size=1280,1000', '--autoplay-policy=no-user-gesture-required',
              '--no-first-run', '--no-default-browser-check', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--lang=en-US'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'performance': 'ALL', 'browser': 'ALL'})
    service = Service(CHROMEDRIVER, log_path=os.path.join(log_dir, 'chromedriver.log'))
    try:
        return webdriver.Chrome(service=service, options=opts)
    except Exception as e:  # noqa: BLE001 (WebDriverException and OS errors alike)
        raise Failure('cannot start Chromium through chromedriver: %s' % str(e).strip().splitlines()[0])


def foreign_urls(driver, seen):
    """URLs the page asked for from any host other than 127.0.0.1 (performance log + Resource Timing)."""
    urls = set()
    try:
        for entry in driver.get_log('performance'):
            msg = json.loads(entry['message'])['message']
            if msg.get('method') == 'Network.requestWillBeSent':
                urls.add(msg['params']['request']['url'])
            elif msg.get('method') == 'Network.webSocketCreated':
                urls.add(msg['params']['url'])
    except Exception:  # noqa: BLE001 (a driver without the log: the JS list still counts)
        pass
    urls.update(driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name));") or [])
    seen.update(urls)
    bad = []
    for u in sorted(urls):
        p = urllib.parse.urlsplit(u)
        if p.scheme in ('data', 'blob', 'about', 'chrome', 'chrome-extension', 'devtools'):
            continue
        if p.hostname not in ALLOWED_HOSTS:
            bad.append(u)
    return bad


def js_errors(driver):
    try:
        entries = driver.get_log('browser')
    except Exception:  # noqa: BLE001
        return []
    return [e['message'] for e in entries
            if e.get('level') == 'SEVERE' and e.get('source') == 'javascript']


def wait_until(what, timeout, fn, interval=0.25):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise Failure('timed out after %.0f s waiting for %s' % (timeout, what))


def full_page_screenshot(driver, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    metrics = driver.execute_cdp_cmd('Page.getLayoutMetrics', {})
    size = metrics.get('cssContentSize') or metrics['contentSize']
    shot = driver.execute_cdp_cmd('Page.captureScreenshot', {
        'format': 'png', 'captureBeyondViewport': True,
        'clip': {'x': 0, 'y': 0, 'width': size['width'], 'height': size['height'], 'scale': 1},
    })
    import base64
    with open(path, 'wb') as f:
        f.write(base64.b64decode(shot['data']))


def run(args, t0):
    from selenium.webdriver.common.by import By

    thg = os.path.abspath(args.thg)
    portrait = os.path.abspath(args.portrait)
    audio = os.path.abspath(args.audio)
    for p in (thg, portrait, audio):
        if not os.path.exists(p):
            raise Failure('no such file: ' + p)
    expected = audio_duration(audio)

    tmp = tempfile.mkdtemp(prefix='thg-web-test-')
    data_dir = os.path.join(tmp, 'data')
    os.makedirs(data_dir)
    server_log = os.path.join(tmp, 'serve.log')
    proc = driver = None
    try:
        proc = start_server(thg, data_dir, args.serve_arg, server_log)
        port = wait_for_port(proc, data_dir)
        base = 'http://127.0.0.1:%d' % port
        log('thg serve listening on %s' % base, t0)

        driver = make_driver(tmp)
        driver.set_page_load_timeout(60)
        driver.get(base + '/')
        wait_until('the page to load', 30, lambda: driver.execute_script(
            "return document.readyState === 'complete' && !!document.getElementById('generate')"))
        styled = driver.execute_script(
            "return getComputedStyle(document.querySelector('.card')).borderTopStyle === 'solid'")
        if not styled:
            raise Failure('/style.css is not applied (is it served, as text/css?)')
        try:
            wait_until('the model description', 30, lambda: (lambda t: t and not t.startswith('Loading') and t)(
                driver.find_element(By.ID, 'model-info').text.strip()))
        except Failure:
            raise Failure('/app.js did not run (not served as JavaScript?) or GET /v1/model did not answer')
        model = driver.find_element(By.ID, 'model-info').text.strip()
        if model.endswith('unavailable'):
            raise Failure('the page could not load GET /v1/model')
        for id_ in ('portrait-input', 'audio-input', 'face-preview', 'steps', 'seed', 'guidance', 'token',
                    'generate', 'progress', 'status-text', 'result-video', 'download-link', 'jobs-table',
                    'error', 'model-info'):
            if not driver.find_elements(By.ID, id_):
                raise Failure('the page has no #%s' % id_)
        seen = set()
        bad = foreign_urls(driver, seen)
        if bad:
            raise Failure('the page requested other hosts: ' + ', '.join(bad))
        log('page loaded (%s), %d requests, all to 127.0.0.1' % (model, len(seen)), t0)

        driver.find_element(By.ID, 'portrait-input').send_keys(portrait)
        driver.find_element(By.ID, 'audio-input').send_keys(audio)

        def face_state():
            return driver.execute_script("""
                const img = document.getElementById('face-preview');
                const err = document.getElementById('face-error');
                if (err && !err.hidden && err.textContent.trim()) return 'error: ' + err.textContent.trim();
                return img.complete && img.naturalWidth > 0 && !img.hidden ? 'ok ' + img.naturalWidth + 'x' + img.naturalHeight : '';
            """)
        face = wait_until('the face preview (POST /v1/faces)', 120, face_state)
        if face.startswith('error'):
            raise Failure('face preview: ' + face[len('error: '):])
        log('face preview shown (%s)' % face[3:], t0)

        driver.find_element(By.ID, 'generate').click()
        t_generate = time.monotonic()
        last_status = ['']

        def video_state():
            st = driver.execute_script("""
                const s = document.getElementById('status-text');
                const v = document.getElementById('result-video');
                return {state: s.dataset.state, text: s.textContent.trim(),
                        error: document.getElementById('error').textContent.trim(),
                        ready: v.readyState, src: v.currentSrc || v.getAttribute('src') || '',
                        verror: v.error ? v.error.code + ' ' + (v.error.message || '') : ''};
            """)
            if st['text'] != last_status[0]:
                last_status[0] = st['text']
                if args.verbose or st['state'] != 'running':
                    log('status: ' + st['text'], t0)
            if st['state'] in ('failed', 'cancelled'):
                raise Failure('the job %s: %s' % (st['state'], st['error'] or st['text']))
            if st['verror']:
                raise Failure('the video element failed to load %s: MediaError %s' % (st['src'], st['verror']))
            if st['error'] and st['state'] == 'idle':
                raise Failure('submitting the job: ' + st['error'])
            return st if st['ready'] >= 1 else None
        st = wait_until('the video (readyState >= 1)', args.timeout, video_state, interval=0.5)
        log('video ready after %.1f s of generation' % (time.monotonic() - t_generate), t0)

        m = re.search(r'/v1/jobs/([^/?#]+)/video', st['src'])
        if not m:
            raise Failure('unexpected video src: ' + st['src'])
        job_id = urllib.parse.unquote(m.group(1))

        duration = driver.execute_script("return document.getElementById('result-video').duration")
        if duration is None or not abs(float(duration) - expected) <= 0.15:
            raise Failure('video duration %s s, the audio is %.3f s' % (duration, expected))
        log('video duration %.3f s (audio %.3f s)' % (duration, expected), t0)

        played = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const v = document.getElementById('result-video');
            v.muted = true;
            v.currentTime = 0;
            v.play().then(() => done('ok'), (e) => done('play() rejected: ' + e));
        """)
        if played != 'ok':
            raise Failure(played)
        c0 = driver.execute_script("return document.getElementById('result-video').currentTime")
        time.sleep(1.2)
        c1, paused, err = driver.execute_script(
            "const v = document.getElementById('result-video'); return [v.currentTime, v.paused, v.error && v.error.code];")
        if err or not c1 > c0 + 0.3:
            raise Failure('the video does not play: currentTime %.2f -> %.2f over 1.2 s (paused=%s, error=%s)'
                          % (c0, c1, paused, err))
        log('video plays (currentTime %.2f -> %.2f)' % (c0, c1), t0)
        driver.execute_script("const v = document.getElementById('result-video'); v.pause(); v.currentTime = 1.0;")

        href = driver.find_element(By.ID, 'download-link').get_attribute('href') or ''
        if 'download=1' not in href or job_id not in href:
            raise Failure('download link %r is not this job\'s ?download=1' % href)
        status, headers, body = http_get(href)
        disposition = {k.lower(): v for k, v in headers.items()}.get('content-disposition', '')
        if status != 200 or 'attachment' not in disposition.lower():
            raise Failure('GET %s: %d, Content-Disposition %r' % (href, status, disposition))
        status, headers, body = http_get(base + '/v1/jobs/%s/video' % job_id, {'Range': 'bytes=0-99'})
        ctype = {k.lower(): v for k, v in headers.items()}.get('content-type', '')
        if status != 206 or len(body) != 100 or not ctype.startswith('video/mp4'):
            raise Failure('a Range request for the video got %d, %d bytes, %r (expected 206, 100, video/mp4)'
                          % (status, len(body), ctype))

        def job_row():
            return driver.execute_script("""
                const row = Array.from(document.querySelectorAll('#jobs-table tbody tr'))
                    .find(r => r.dataset.jobId === arguments[0]);
                return row ? Array.from(row.cells).map(c => c.textContent.trim()).join(" | ") : "";
            """, job_id)
        row = wait_until('the jobs table to list job %s as done' % job_id, 15,
                         lambda: (lambda t: t if re.search(r'\bdone\b', t, re.I) else '')(job_row()))
        log('jobs table: ' + ' '.join(row.split()), t0)

        bad = foreign_urls(driver, seen)
        if bad:
            raise Failure('the page requested other hosts: ' + ', '.join(bad))
        errors = js_errors(driver)
        if errors:
            raise Failure('JavaScript error: ' + errors[0])

        if args.screenshot:
            driver.execute_script("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur();")
            time.sleep(0.5)
            full_page_screenshot(driver, args.screenshot)
            log('screenshot: ' + args.screenshot, t0)
    except Failure:
        if proc is not None:
            text = tail(server_log)
            if text:
                sys.stderr.write('--- thg serve log (last lines) ---\n' + text + '---\n')
        raise
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001
                pass
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--thg', required=True, help='the thg binary')
    ap.add_argument('--portrait', required=True)
    ap.add_argument('--audio', required=True)
    ap.add_argument('--screenshot', help='save a full-page PNG here once the video is shown')
    ap.add_argument('--timeout', type=float, default=300, help='seconds to wait for the video (default 300)')
    ap.add_argument('--serve-arg', action='append', default=[],
                    help='an extra argument for thg serve (repeat), e.g. --serve-arg=--device=cpu')
    ap.add_argument('--verbose', action='store_true', help='log every status change')
    args = ap.parse_args()

    import_selenium()
    for path, what in ((CHROMIUM, 'chromium'), (CHROMEDRIVER, 'chromedriver')):
        if not os.access(path, os.X_OK):
            skip('%s is not installed (%s)' % (what, path))
    if not shutil.which('ffprobe'):
        skip('ffprobe is not installed')

    t0 = time.monotonic()
    try:
        run(args, t0)
    except Failure as e:
        print('FAIL: ' + ' '.join(str(e).split()), flush=True)
        return 1
    except Exception as e:  # noqa: BLE001 (an unexpected Selenium error is a failure too)
        print('FAIL: %s: %s' % (type(e).__name__, ' '.join(str(e).split())[:500]), flush=True)
        return 1
    log('PASS', t0)
    return 0


if __name__ == '__main__':
    sys.exit(main())
