// thg serve: the web page's script. Plain JavaScript, no dependencies; it talks only to this
// server's /v1/ API (docs/api.md).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const els = {
    error: $('error'),
    modelInfo: $('model-info'),
    modelCard: $('model-card'),
    modelCardText: $('model-card-text'),
    serverInfo: $('server-info'),
    form: $('job-form'),
    portraitZone: $('portrait-zone'),
    portraitInput: $('portrait-input'),
    portraitName: $('portrait-name'),
    audioZone: $('audio-zone'),
    audioInput: $('audio-input'),
    audioName: $('audio-name'),
    audioPreview: $('audio-preview'),
    record: $('record'),
    recordLabel: $('record-label'),
    recordStatus: $('record-status'),
    steps: $('steps'),
    seed: $('seed'),
    guidance: $('guidance'),
    token: $('token'),
    tokenBox: $('token-box'),
    generate: $('generate'),
    faceBox: $('face-box'),
    facePreview: $('face-preview'),
    facePlaceholder: $('face-placeholder'),
    faceError: $('face-error'),
    statusText: $('status-text'),
    progress: $('progress'),
    percent: $('progress-percent'),
    eta: $('progress-eta'),
    cancel: $('cancel'),
    result: $('result'),
    video: $('result-video'),
    download: $('download-link'),
    jobsTable: $('jobs-table'),
    refreshJobs: $('refresh-jobs'),
  };

  const FINAL = new Set(['done', 'failed', 'cancelled']);
  const TOKEN_KEY = 'thg.token';
  const CURRENT_KEY = 'thg.currentJob';
  const STATE_LABELS = {
    queued: 'Queued', running: 'Running', done: 'Done', failed: 'Failed', cancelled: 'Cancelled',
  };

  let portraitFile = null;
  let audioFile = null;
  let faceRequest = null;      // AbortController of the face preview in flight
  let faceUrl = null;          // object URL of the shown face
  let audioUrl = null;         // object URL of the audio preview
  let current = null;          // the job this page follows: {id, state, es, poll}
  let jobsTimer = null;
  let jobsLoading = false;
  let jobsAgain = false;

  // ---------------------------------------------------------------- storage, token, requests

  function storageGet(store, key) {
    try { return store.getItem(key) || ''; } catch (_) { return ''; }
  }
  function storageSet(store, key, value) {
    try {
      if (value) store.setItem(key, value); else store.removeItem(key);
    } catch (_) { /* private mode: not kept */ }
  }

  function token() { return els.token.value.trim(); }

  function authHeaders() {
    const t = token();
    return t ? { Authorization: 'Bearer ' + t } : {};
  }

  // A same-origin URL with extra query parameters and, when set, ?token= (for EventSource,
  // <video> and links, which cannot send headers).
  function urlWithToken(path, params) {
    const u = new URL(path, window.location.origin);
    if (params) for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    const t = token();
    if (t) u.searchParams.set('token', t);
    return u.pathname + u.search;
  }

  function jobPath(id, suffix) {
    return '/v1/jobs/' + encodeURIComponent(id) + (suffix || '');
  }

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.name = 'ApiError';
      this.status = status;
    }
  }

  async function errorMessage(res) {
    let msg = '';
    try {
      const text = await res.text();
      try {
        const body = JSON.parse(text);
        if (body && body.error) msg = String(body.error);
      } catch (_) {
        msg = text.trim().split('\n')[0].slice(0, 300);
      }
    } catch (_) { /* no body */ }
    if (!msg) msg = (res.status + ' ' + res.statusText).trim();
    if (res.status === 401) {
      els.tokenBox.open = true;
      msg += ' Enter the server\u2019s access token under \u201cAccess token\u201d.';
    } else if (res.status === 429) {
      const after = res.headers.get('Retry-After');
      if (after) msg += ' Try again in ' + after + ' s.';
    }
    return msg;
  }

  // fetch() with the token; JSON by default; throws ApiError with the server's one-line message.
  async function api(path, opts) {
    const o = opts || {};
    let res;
    try {
      res = await fetch(path, {
        method: o.method || 'GET',
        body: o.body,
        signal: o.signal,
        headers: authHeaders(),
        cache: 'no-store',
      });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError('Cannot reach the server (' + (e && e.message ? e.message : e) + ').', 0);
    }
    if (!res.ok) throw new ApiError(await errorMessage(res), res.status);
    return o.raw ? res : res.json();
  }

  // ---------------------------------------------------------------- messages and formatting

  function showError(msg) {
    els.error.textContent = msg;
  }
  function clearError() {
    els.error.textContent = '';
  }

  function formatBytes(n) {
    if (!(n >= 0)) return '';
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(0) + ' KB';
    return (n / (1024 * 1024)).toFixed(1) + ' MB';
  }

  function formatSeconds(s) {
    if (!(s >= 0)) return '';
    if (s < 1) return 'under a second';
    if (s < 60) return Math.round(s) + ' s';
    const m = Math.floor(s / 60);
    const r = Math.round(s - m * 60);
    return m + ' min' + (r ? ' ' + r + ' s' : '');
  }

  function formatTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    const today = new Date();
    const sameDay = d.toDateString() === today.toDateString();
    return sameDay
      ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
      : d.toLocaleString(undefined, {
        year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
      });
  }

  function clamp01(x) {
    const v = Number(x);
    return isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'className') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  // ---------------------------------------------------------------- file inputs and drop zones

  function setupDropZone(zone, input, onFile) {
    input.addEventListener('change', () => {
      if (input.files && input.files[0]) onFile(input.files[0]);
    });
    // The input is visually hidden but keeps the keyboard focus (the zone shows it); Space opens
    // the picker natively, Enter is made to do the same.
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        input.click();
      }
    });
    const over = (e) => {
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
      zone.classList.add('dragover');
    };
    zone.addEventListener('dragenter', over);
    zone.addEventListener('dragover', over);
    zone.addEventListener('dragleave', (e) => {
      if (!zone.contains(e.relatedTarget)) zone.classList.remove('dragover');
    });
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('dragover');
      const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (!file) return;
      setInputFile(input, file);
      onFile(file);
    });
  }

  // Keep the <input type=file> in step with a dropped or recorded file where the browser allows.
  function setInputFile(input, file) {
    try {
      const dt = new DataTransfer();
      dt.items.add(file);
      input.files = dt.files;
    } catch (_) { /* older browsers: the page keeps the file itself */ }
  }

  function showFileName(zone, nameEl, file) {
    zone.classList.add('has-file');
    nameEl.textContent = file.name + (file.size ? ' \u00b7 ' + formatBytes(file.size) : '');
  }

  function choosePortrait(file) {
    portraitFile = file;
    showFileName(els.portraitZone, els.portraitName, file);
    clearError();
    previewFace(file);
  }

  function chooseAudio(file) {
    audioFile = file;
    showFileName(els.audioZone, els.audioName, file);
    clearError();
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = URL.createObjectURL(file);
    els.audioPreview.src = audioUrl;
    els.audioPreview.hidden = false;
  }

  // POST /v1/faces: the aligned crop the model will animate.
  async function previewFace(file) {
    if (faceRequest) faceRequest.abort();
    const request = new AbortController();
    faceRequest = request;
    els.faceBox.setAttribute('aria-busy', 'true');
    els.faceError.hidden = true;
    els.faceError.textContent = '';
    els.facePreview.hidden = true;
    els.facePlaceholder.hidden = false;
    els.facePlaceholder.textContent = 'Finding the face in ' + file.name;
    const fd = new FormData();
    fd.append('portrait', file, file.name);
    try {
      const res = await api('/v1/faces', { method: 'POST', body: fd, signal: request.signal, raw: true });
      const blob = await res.blob();
      if (faceRequest !== request) return;
      if (faceUrl) URL.revokeObjectURL(faceUrl);
      faceUrl = URL.createObjectURL(blob);
      els.facePreview.alt = 'The face found in ' + file.name + ', as the model will animate it';
      els.facePreview.src = faceUrl;
      els.facePreview.hidden = false;
      els.facePlaceholder.hidden = true;
    } catch (e) {
      if (e && e.name === 'AbortError') return;
      if (faceRequest !== request) return;
      els.facePlaceholder.hidden = true;
      els.faceError.textContent = e.message;
      els.faceError.hidden = false;
    } finally {
      if (faceRequest === request) {
        faceRequest = null;
        els.faceBox.setAttribute('aria-busy', 'false');
      }
    }
  }

  // ---------------------------------------------------------------- microphone

  function setupRecorder() {
    const md = navigator.mediaDevices;
    if (!md || typeof md.getUserMedia !== 'function' || typeof window.MediaRecorder !== 'function') {
      return; // no microphone here (or not a secure context): the button stays hidden
    }
    els.record.hidden = false;
    let recorder = null;
    let stream = null;
    let chunks = [];
    let started = 0;
    let timer = null;

    const setRecording = (on) => {
      els.record.setAttribute('aria-pressed', on ? 'true' : 'false');
      els.recordLabel.textContent = on ? 'Stop recording' : 'Record from microphone';
    };
    const elapsed = () => (Date.now() - started) / 1000;
    const clock = (s) => Math.floor(s / 60) + ':' + String(Math.floor(s % 60)).padStart(2, '0');

    els.record.addEventListener('click', async () => {
      if (recorder && recorder.state === 'recording') {
        recorder.stop();
        return;
      }
      clearError();
      els.record.disabled = true;
      try {
        stream = await md.getUserMedia({ audio: true });
      } catch (e) {
        els.record.disabled = false;
        showError('Cannot use the microphone: ' + ((e && (e.message || e.name)) || 'permission denied') + '.');
        return;
      }
      els.record.disabled = false;
      const types = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'];
      const mime = types.find((t) => MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(t));
      try {
        recorder = new MediaRecorder(stream, mime ? { mimeType: mime } : undefined);
      } catch (e) {
        stream.getTracks().forEach((t) => t.stop());
        showError('Cannot record here: ' + (e && e.message ? e.message : e) + '.');
        return;
      }
      chunks = [];
      recorder.addEventListener('dataavailable', (e) => {
        if (e.data && e.data.size) chunks.push(e.data);
      });
      recorder.addEventListener('stop', () => {
        const seconds = elapsed();
        clearInterval(timer);
        stream.getTracks().forEach((t) => t.stop());
        setRecording(false);
        const type = (recorder && recorder.mimeType) || mime || 'audio/webm';
        const blob = new Blob(chunks, { type });
        if (!blob.size) {
          els.recordStatus.textContent = '';
          showError('The recording is empty.');
          return;
        }
        const file = new File([blob], 'recording.webm', { type });
        setInputFile(els.audioInput, file);
        chooseAudio(file);
        els.recordStatus.textContent = 'Recorded ' + clock(seconds) + '.';
      });
      recorder.start(250);
      started = Date.now();
      setRecording(true);
      els.recordStatus.textContent = 'Recording\u2026';
      timer = setInterval(() => {
        els.recordStatus.textContent = 'Recording\u2026 ' + clock(elapsed());
      }, 1000);
    });
  }

  // ---------------------------------------------------------------- submitting a job

  // Settings: sent only when filled in (empty: the model's default).
  function readSettings() {
    const fields = [
      [els.steps, 'steps', 'Steps'],
      [els.seed, 'seed', 'Seed'],
      [els.guidance, 'guidance_audio', 'Audio guidance'],
    ];
    const out = [];
    for (const [input, name, label] of fields) {
      if (input.validity && !input.validity.valid) {
        input.focus();
        throw new Error(label + ': ' + (input.validationMessage || 'not a valid number') + '');
      }
      const v = input.value.trim();
      if (v !== '') out.push([name, v]);
    }
    return out;
  }

  async function submitJob(e) {
    e.preventDefault();
    clearError();
    if (!portraitFile) {
      showError('Choose a portrait first.');
      els.portraitInput.focus();
      return;
    }
    if (!audioFile) {
      showError('Choose or record the speech first.');
      els.audioInput.focus();
      return;
    }
    let settings;
    try {
      settings = readSettings();
    } catch (err) {
      showError(err.message);
      return;
    }
    const fd = new FormData();
    fd.append('portrait', portraitFile, portraitFile.name);
    fd.append('audio', audioFile, audioFile.name);
    for (const [k, v] of settings) fd.append(k, v);

    const label = els.generate.textContent;
    els.generate.disabled = true;
    els.generate.textContent = 'Uploading\u2026';
    try {
      const status = await api('/v1/jobs', { method: 'POST', body: fd });
      follow(status);
      refreshJobs();
    } catch (err) {
      showError(err.message);
    } finally {
      els.generate.disabled = false;
      els.generate.textContent = label;
    }
  }

  // ---------------------------------------------------------------- following one job

  function stopFollowing() {
    if (!current) return;
    if (current.es) current.es.close();
    if (current.poll) clearTimeout(current.poll);
    current = null;
  }

  function resetJobCard(text) {
    els.statusText.textContent = text;
    els.statusText.dataset.state = 'idle';
    els.progress.value = 0;
    els.percent.textContent = '0%';
    els.eta.textContent = '';
    els.cancel.hidden = true;
    els.result.hidden = true;
    els.video.removeAttribute('src');
    els.video.load();
  }

  // Shows a job's status and, unless it is finished, follows it: server-sent events, or polling
  // GET /v1/jobs/{id} every second when EventSource is missing or fails.
  function follow(status) {
    stopFollowing();
    const id = status.id;
    current = { id, state: null, es: null, poll: null };
    storageSet(window.sessionStorage, CURRENT_KEY, id);
    els.result.hidden = true;
    markCurrentRow();
    render(status);
    if (FINAL.has(status.state)) return;

    if (typeof window.EventSource !== 'function') {
      poll(id);
      return;
    }
    const es = new EventSource(urlWithToken(jobPath(id, '/events')));
    current.es = es;
    es.addEventListener('status', (ev) => {
      if (!current || current.id !== id) return;
      let s;
      try { s = JSON.parse(ev.data); } catch (_) { return; }
      render(s);
      if (FINAL.has(s.state)) {
        es.close();
        if (current && current.es === es) current.es = null;
      }
    });
    es.addEventListener('error', () => {
      if (!current || current.id !== id || current.es !== es) return;
      es.close();
      current.es = null;
      if (!FINAL.has(current.state)) poll(id);
    });
  }

  function poll(id) {
    const tick = async () => {
      if (!current || current.id !== id) return;
      current.poll = null;
      try {
        const s = await api(jobPath(id));
        if (!current || current.id !== id) return;
        render(s);
        if (FINAL.has(s.state)) return;
      } catch (e) {
        if (!current || current.id !== id) return;
        if (e.status === 404) {
          stopFollowing();
          resetJobCard('This job no longer exists.');
          refreshJobs();
          return;
        }
        if (e.status === 401) {
          showError(e.message);
          return;
        }
        els.eta.textContent = 'Lost contact with the server; retrying\u2026';
      }
      current.poll = setTimeout(tick, 1000);
    };
    current.poll = setTimeout(tick, 0);
  }

  function render(s) {
    if (!current || s.id !== current.id) return;
    const before = current.state;
    current.state = s.state;
    const progress = clamp01(s.progress);
    const pct = Math.floor(progress * 100);
    els.statusText.dataset.state = s.state;
    els.cancel.hidden = FINAL.has(s.state);

    if (s.state === 'queued') {
      const ahead = Number(s.position) || 0;
      els.statusText.textContent = ahead > 0
        ? 'Queued: ' + ahead + (ahead === 1 ? ' job' : ' jobs') + ' ahead.'
        : 'Queued: next up.';
      els.progress.removeAttribute('value'); // indeterminate
      els.percent.textContent = '';
      els.eta.textContent = '';
    } else if (s.state === 'running') {
      const frames = Number(s.frames) || 0;
      els.statusText.textContent = frames
        ? 'Generating: frame ' + Math.round(progress * frames) + ' of ' + frames + '.'
        : 'Generating\u2026';
      els.progress.value = pct;
      els.percent.textContent = pct + '%';
      els.eta.textContent = s.eta_seconds === null || s.eta_seconds === undefined
        ? 'Estimating the time left\u2026'
        : 'About ' + formatSeconds(Number(s.eta_seconds)) + ' left.';
    } else if (s.state === 'done') {
      let took = '';
      if (s.started && s.finished) {
        const secs = (new Date(s.finished) - new Date(s.started)) / 1000;
        if (secs >= 0) took = ' in ' + formatSeconds(secs);
      }
      els.statusText.textContent = 'Done' + took + '.';
      els.progress.value = 100;
      els.percent.textContent = '100%';
      els.eta.textContent = '';
      showVideo(s);
      storageSet(window.sessionStorage, CURRENT_KEY, '');
    } else if (s.state === 'failed') {
      const why = s.error || 'unknown error';
      els.statusText.textContent = 'Failed: ' + why;
      els.eta.textContent = '';
      els.progress.value = 0;
      els.percent.textContent = '';
      showError('The job failed: ' + why);
      storageSet(window.sessionStorage, CURRENT_KEY, '');
    } else if (s.state === 'cancelled') {
      els.statusText.textContent = 'Cancelled.';
      els.eta.textContent = '';
      storageSet(window.sessionStorage, CURRENT_KEY, '');
    } else {
      els.statusText.textContent = String(s.state || 'Unknown state');
    }
    if (before !== null && before !== s.state) refreshJobs();
  }

  function videoPath(s) {
    return typeof s.video === 'string' && s.video.startsWith('/') ? s.video : jobPath(s.id, '/video');
  }

  function showVideo(s) {
    const src = urlWithToken(videoPath(s));
    if (els.video.getAttribute('src') !== src) {
      els.video.src = src;
    }
    els.download.href = urlWithToken(videoPath(s), { download: '1' });
    els.download.setAttribute('download', 'thg-' + s.id + '.mp4');
    els.result.hidden = false;
  }

  async function cancelCurrent() {
    if (!current) return;
    const id = current.id;
    els.cancel.disabled = true;
    try {
      await api(jobPath(id), { method: 'DELETE' });
      if (current && current.id === id) {
        stopFollowing();
        storageSet(window.sessionStorage, CURRENT_KEY, '');
        resetJobCard('Cancelled.');
        els.statusText.dataset.state = 'cancelled';
      }
      refreshJobs();
      els.generate.focus();
    } catch (e) {
      showError(e.message);
    } finally {
      els.cancel.disabled = false;
    }
  }

  // ---------------------------------------------------------------- the jobs table

  function markCurrentRow() {
    for (const tr of els.jobsTable.tBodies[0].rows) {
      tr.classList.toggle('current', !!current && tr.dataset.jobId === current.id);
    }
  }

  function describeJob(s) {
    return (s.portrait_name || 'portrait') + ' + ' + (s.audio_name || 'speech');
  }

  function jobRow(s) {
    const state = String(s.state || '');
    const badge = el('span', { className: 'badge ' + state, text: STATE_LABELS[state] || state });
    const stateCell = el('td', { className: 'state', 'data-state': state }, badge);
    if (state === 'running') {
      stateCell.append(' ' + Math.floor(clamp01(s.progress) * 100) + '%');
    } else if (state === 'queued' && Number(s.position) > 0) {
      stateCell.append(' (' + s.position + ' ahead)');
    } else if (state === 'failed' && s.error) {
      badge.title = s.error;
      stateCell.append(el('div', { className: 'muted', text: s.error }));
    }

    const created = el('td', { className: 'created' },
      el('time', { datetime: s.created || '', text: formatTime(s.created) }));

    const links = el('td', { className: 'links' });
    if (state === 'done') {
      links.append(
        el('a', {
          href: urlWithToken(videoPath(s)),
          'aria-label': 'Play ' + describeJob(s),
          onclick: (e) => {
            if (e.ctrlKey || e.metaKey || e.shiftKey || e.button === 1) return; // new tab: let it
            e.preventDefault();
            clearError();
            follow(s);
            els.video.focus({ preventScroll: true });
            els.video.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
          },
        }, 'Play'),
        el('a', {
          href: urlWithToken(videoPath(s), { download: '1' }),
          download: 'thg-' + s.id + '.mp4',
          'aria-label': 'Download ' + describeJob(s),
        }, 'Download'),
      );
    }

    const active = state === 'queued' || state === 'running';
    const action = el('button', {
      type: 'button',
      className: 'secondary small' + (active ? '' : ' danger-text'),
      'aria-label': (active ? 'Cancel ' : 'Delete ') + describeJob(s),
      onclick: () => deleteJob(s.id, action),
    }, active ? 'Cancel' : 'Delete');

    const tr = el('tr', { 'data-job-id': s.id },
      el('td', { className: 'name', title: s.portrait_name || '', text: s.portrait_name || '\u2014' }),
      el('td', { className: 'name', title: s.audio_name || '', text: s.audio_name || '\u2014' }),
      stateCell,
      created,
      links,
      el('td', { className: 'actions-cell' }, action),
    );
    if (current && current.id === s.id) tr.classList.add('current');
    return tr;
  }

  function renderJobs(jobs) {
    const body = els.jobsTable.tBodies[0];
    const sorted = jobs.slice().sort((a, b) => String(b.created || '').localeCompare(String(a.created || '')));
    // Keep the keyboard focus on the same row's button across a refresh.
    const focused = document.activeElement;
    const focusedRow = focused && body.contains(focused) ? focused.closest('tr') : null;
    const focusedId = focusedRow ? focusedRow.dataset.jobId : null;
    const focusedIndex = focusedRow ? Array.from(focusedRow.querySelectorAll('a,button')).indexOf(focused) : -1;

    const rows = sorted.map(jobRow);
    if (!rows.length) {
      rows.push(el('tr', { className: 'empty' }, el('td', { colspan: '6', className: 'muted', text: 'No jobs yet.' })));
    }
    body.replaceChildren(...rows);

    if (focusedId) {
      const row = body.querySelector('tr[data-job-id="' + CSS.escape(focusedId) + '"]');
      const target = row ? row.querySelectorAll('a,button')[focusedIndex] : null;
      if (target) target.focus(); else els.refreshJobs.focus();
    }
    return sorted;
  }

  async function refreshJobs() {
    if (jobsLoading) {
      jobsAgain = true;
      return null;
    }
    jobsLoading = true;
    let jobs = null;
    try {
      const data = await api('/v1/jobs');
      jobs = renderJobs(Array.isArray(data.jobs) ? data.jobs : []);
    } catch (e) {
      if (e.status === 401) showError(e.message);
    } finally {
      jobsLoading = false;
    }
    if (jobsAgain) {
      jobsAgain = false;
      return refreshJobs();
    }
    // While some job is unfinished, keep the list fresh (jobs from other tabs too).
    clearTimeout(jobsTimer);
    if (jobs && jobs.some((j) => !FINAL.has(j.state))) {
      jobsTimer = setTimeout(refreshJobs, 3000);
    }
    return jobs;
  }

  async function deleteJob(id, button) {
    button.disabled = true;
    clearError();
    try {
      await api(jobPath(id), { method: 'DELETE' });
      if (current && current.id === id) {
        stopFollowing();
        storageSet(window.sessionStorage, CURRENT_KEY, '');
        resetJobCard('The job was removed.');
      }
    } catch (e) {
      showError(e.message);
      button.disabled = false;
    }
    const wasFocused = document.activeElement === button;
    await refreshJobs();
    if (wasFocused || !document.body.contains(document.activeElement) || document.activeElement === document.body) {
      els.refreshJobs.focus();
    }
  }

  // ---------------------------------------------------------------- server and model

  // The `generation:` section of the model config: an object, or the YAML text `thg info` shows.
  function generationDefaults(config) {
    if (config && typeof config === 'object') {
      return config.generation && typeof config.generation === 'object' ? config.generation : null;
    }
    if (typeof config !== 'string') return null;
    const block = /^generation:[ \t]*\r?\n((?:[ \t]+.*(?:\r?\n|$))*)/m.exec(config);
    if (!block) return null;
    const out = {};
    for (const line of block[1].split(/\r?\n/)) {
      const kv = /^[ \t]+([A-Za-z_]+):[ \t]*([^#\s][^#]*?)[ \t]*$/.exec(line);
      if (kv) out[kv[1]] = kv[2];
    }
    return out;
  }

  async function loadModel() {
    try {
      const m = await api('/v1/model');
      let text = 'Model: ' + (m.description || 'unnamed');
      if (m.family) text += ' (' + m.family + ')';
      els.modelInfo.textContent = text;
      els.modelInfo.title = text;
      if (m.card) {
        els.modelCardText.textContent = String(m.card);
        els.modelCard.hidden = false;
      }
      // The model's defaults as placeholders, when the config says them.
      const gen = generationDefaults(m.config);
      if (gen) {
        if (gen.steps !== undefined) els.steps.placeholder = 'default (' + gen.steps + ')';
        if (gen.guidance_audio !== undefined) els.guidance.placeholder = 'default (' + gen.guidance_audio + ')';
      }
    } catch (e) {
      els.modelInfo.textContent = e.status === 401 ? 'Model: (needs the access token)' : 'Model: unavailable';
    }
  }

  async function loadHealth() {
    try {
      const h = await api('/v1/health');
      if (h && h.version) els.serverInfo.textContent = 'thg serve ' + h.version;
    } catch (_) { /* the footer keeps its default */ }
  }

  // ---------------------------------------------------------------- start

  function init() {
    document.documentElement.dataset.app = 'ready';
    els.token.value = storageGet(window.localStorage, TOKEN_KEY);
    if (els.token.value) els.tokenBox.open = true;
    els.token.addEventListener('input', () => storageSet(window.localStorage, TOKEN_KEY, token()));
    els.token.addEventListener('change', () => {
      storageSet(window.localStorage, TOKEN_KEY, token());
      clearError();
      loadModel();
      refreshJobs();
    });

    setupDropZone(els.portraitZone, els.portraitInput, choosePortrait);
    setupDropZone(els.audioZone, els.audioInput, chooseAudio);
    // A file dropped next to a zone must not replace the page.
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());
    setupRecorder();

    els.form.addEventListener('submit', submitJob);
    els.cancel.addEventListener('click', cancelCurrent);
    els.refreshJobs.addEventListener('click', refreshJobs);
    els.video.addEventListener('error', () => {
      if (els.video.getAttribute('src')) {
        showError('The video could not be played here; the Download link still works.');
      }
    });

    loadModel();
    loadHealth();
    refreshJobs().then((jobs) => {
      // After a reload, keep following the job this tab submitted.
      const id = storageGet(window.sessionStorage, CURRENT_KEY);
      const job = id && jobs ? jobs.find((j) => j.id === id) : null;
      if (job && !current) follow(job);
    });
  }

  init();
})();
