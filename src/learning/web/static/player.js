/* The player: chapters, resuming where the learner stopped, and progress events sent while playing.

   For an enrolled learner (data-track="on"), what is watched goes to POST /api/v1/me/progress/events in
   batches: "played" segments {from, to} and "position" heartbeats, each with its own UUID (the server skips
   a batch it has already applied, so a retry is harmless) and the client's time. Unsent events are kept in
   localStorage until the server has them. The saved position comes from GET /api/v1/me/progress/lessons/{id},
   so playback resumes on any device. Elsewhere (visitors, webinars) the position is kept on this device. */
(function () {
  "use strict";
  var media = document.getElementById("lecteur");
  if (!media || !window.learning) { return; }
  var L = window.learning;
  var statusLine = document.querySelector(".player-status");
  var note = document.querySelector("[data-resume-note]");
  var HEARTBEAT_MS = 5000, FLUSH_MS = 10000, MIN_SEGMENT = 0.25, JUMP = 3;

  function say(text) { if (statusLine) { statusLine.textContent = text; } }
  function round(value) { return Math.round(value * 1000) / 1000; }

  /* Chapters: the buttons seek (they are disabled in the HTML, for pages read without JavaScript). */
  document.querySelectorAll("button.chapter[data-start]").forEach(function (button) {
    button.disabled = false;
    button.addEventListener("click", function () {
      media.currentTime = Number(button.dataset.start);
      var playing = media.play();
      if (playing && playing.catch) { playing.catch(function () { /* the learner presses play */ }); }
    });
  });

  /* The transcript: a cue's time seeks there; the cue being said and the current chapter are highlighted, and
     the transcript box follows the current cue (scrolling the box only, never the page). */
  var cueList = document.querySelector("ol.cues");
  var cueItems = cueList ? Array.prototype.slice.call(cueList.querySelectorAll("li[data-start]")) : [];
  var chapterButtons = Array.prototype.slice.call(document.querySelectorAll("button.chapter[data-start]"));
  cueItems.forEach(function (item) {
    var button = item.querySelector("button.cue-time");
    if (!button) { return; }
    button.disabled = false;
    button.addEventListener("click", function () {
      media.currentTime = Number(item.dataset.start);
      var playing = media.play();
      if (playing && playing.catch) { playing.catch(function () { /* the learner presses play */ }); }
    });
  });
  var currentCue = null, currentChapter = null;
  function lastStartedBefore(items, time) {
    var found = null;
    for (var i = 0; i < items.length && Number(items[i].dataset.start) <= time + 0.05; i++) { found = items[i]; }
    return found;
  }
  function highlight() {
    var time = media.currentTime;
    var cue = lastStartedBefore(cueItems, time);
    if (cue && time > Number(cue.dataset.end) + 0.5) { cue = null; }  // a silence between cues
    if (cue !== currentCue) {
      if (currentCue) { currentCue.classList.remove("current"); currentCue.removeAttribute("aria-current"); }
      if (cue) {
        cue.classList.add("current");
        cue.setAttribute("aria-current", "true");
        var top = cue.offsetTop - cueList.offsetTop, bottom = top + cue.offsetHeight;
        if (top < cueList.scrollTop || bottom > cueList.scrollTop + cueList.clientHeight) {
          cueList.scrollTop = Math.max(0, top - cueList.clientHeight / 3);
        }
      }
      currentCue = cue;
    }
    var chapter = lastStartedBefore(chapterButtons, time);
    if (chapter !== currentChapter) {
      if (currentChapter) { currentChapter.removeAttribute("aria-current"); }
      if (chapter) { chapter.setAttribute("aria-current", "true"); }
      currentChapter = chapter;
    }
  }
  if (cueItems.length || chapterButtons.length) {
    media.addEventListener("timeupdate", highlight);
    media.addEventListener("seeked", highlight);
  }

  function whenReady(callback) {
    if (media.readyState >= 1) { callback(); } else { media.addEventListener("loadedmetadata", callback, { once: true }); }
  }

  function resumeAt(seconds, origin) {
    whenReady(function () {
      var end = media.duration || Number(media.dataset.duration) || 0;
      if (seconds <= 0 || (end && seconds >= end - 1) || media.currentTime > 1) { return; }
      media.currentTime = seconds;
      var text = "Reprise à " + L.clock(seconds) + (origin ? " " + origin : "") + ".";
      if (note) {
        note.textContent = text + " ";
        var restart = document.createElement("button");
        restart.type = "button";
        restart.className = "link-button";
        restart.textContent = "Revenir au début";
        restart.addEventListener("click", function () { media.currentTime = 0; note.hidden = true; });
        note.appendChild(restart);
        note.hidden = false;
      } else {
        say(text);
      }
    });
  }

  var lessonId = media.dataset.lessonId;
  if (media.dataset.track === "on" && lessonId) {
    trackProgress(lessonId);
  } else if (media.dataset.resumeKey) {
    rememberHere("learning.position." + media.dataset.resumeKey);
  }

  /* ---- an enrolled learner: progress events to the API --------------------------------------------- */
  function trackProgress(lesson) {
    var queueKey = "learning.progress.queue." + lesson;
    var queue = [];
    try { queue = JSON.parse(localStorage.getItem(queueKey) || "[]"); } catch (e) { queue = []; }
    var segmentStart = null, last = null, lastBeat = 0, lastFlush = Date.now(), sending = false, again = false;

    function save() {
      try { localStorage.setItem(queueKey, JSON.stringify(queue)); } catch (e) { /* private mode: memory only */ }
    }
    function push(event) {
      event.id = L.uuid();
      event.lesson_id = lesson;
      event.client_time = new Date().toISOString();
      queue.push(event);
      save();
    }
    function closeSegment() {
      if (segmentStart !== null && last !== null && last - segmentStart >= MIN_SEGMENT) {
        push({ type: "played", from: round(segmentStart), to: round(last) });
      }
      segmentStart = null;
    }
    function heartbeat() {
      lastBeat = Date.now();
      push({ type: "position", position: round(media.currentTime) });
    }
    /* What the server now knows about this lesson, shown under the player as it plays. */
    var stateLine = document.querySelector("[data-lesson-state]");
    var doneNote = document.querySelector("[data-done-note]");
    function showProgress(answer) {
      var found = (answer && answer.lessons || []).filter(function (row) { return row.lesson_id === lesson; })[0];
      if (!found || !stateLine) { return; }
      var percent = found.completed ? 100 : Math.min(100, Math.round(found.coverage_percent));
      var bar = stateLine.querySelector("progress");
      var value = stateLine.querySelector(".progress-value");
      var label = stateLine.querySelector(".state-label");
      if (bar) { bar.value = percent; bar.textContent = percent + " %"; }
      if (value) { value.textContent = percent + " %"; }
      if (label) { label.textContent = found.completed ? "Terminée" : (found.watched_seconds > 0 ? "En cours" : "Pas commencée"); }
      if (found.completed && stateLine.dataset.completed !== "yes") {
        stateLine.dataset.completed = "yes";
        if (doneNote) { doneNote.hidden = false; }
        say("Bravo\u00a0: cette leçon est terminée et enregistrée.");
      }
    }
    function expired() {
      if (!statusLine) { return; }
      statusLine.textContent = "Votre session a expiré\u00a0: votre progression est gardée sur cet appareil. ";
      var link = document.createElement("a");
      link.href = "/connexion?suite=" + encodeURIComponent(location.pathname);
      link.textContent = "Reconnectez-vous pour l’enregistrer";
      statusLine.appendChild(link);
      statusLine.appendChild(document.createTextNode("."));
    }

    function flush(leaving) {
      if (sending) { again = true; return; }  // once the batch on its way is answered
      if (!queue.length) { return; }
      var batch = queue.slice(0, 200);
      var sent = {};
      batch.forEach(function (event) { sent[event.id] = true; });
      sending = true;
      lastFlush = Date.now();
      L.api("POST", "/api/v1/me/progress/events", { events: batch }, { keepalive: !!leaving }).then(function (response) {
        if (response.status === 401) {
          expired();
          return;
        }
        if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429)) {
          // Applied, or refused for good (a retry would be refused again): either way, not to send again.
          queue = queue.filter(function (event) { return !sent[event.id]; });
          save();
          if (!response.ok) { say("Une partie de votre progression n’a pas pu être enregistrée."); }
          else { return response.json().then(showProgress, function () { /* shown at the next batch */ }); }
        }
      }).catch(function () {
        /* offline: the events stay queued and go with the next batch */
      }).then(function () {
        sending = false;
        if (again) { again = false; flush(false); }
      });
    }

    media.addEventListener("playing", function () {
      closeSegment();
      segmentStart = media.currentTime;
      last = media.currentTime;
    });
    media.addEventListener("timeupdate", function () {
      if (media.paused || media.seeking) { return; }
      var now = media.currentTime;
      if (segmentStart === null) {
        segmentStart = now;
      } else if (now < last || now - last > JUMP) {
        closeSegment();
        segmentStart = now;
      }
      last = now;
      if (Date.now() - lastBeat >= HEARTBEAT_MS) { heartbeat(); }
      if (Date.now() - lastFlush >= FLUSH_MS) { closeSegment(); segmentStart = last; flush(false); }
    });
    media.addEventListener("seeking", closeSegment);
    media.addEventListener("seeked", function () { if (media.paused) { heartbeat(); } });
    media.addEventListener("pause", function () { closeSegment(); heartbeat(); flush(false); });
    media.addEventListener("ended", function () { closeSegment(); heartbeat(); flush(false); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { closeSegment(); heartbeat(); flush(true); }
    });
    window.addEventListener("pagehide", function () { closeSegment(); flush(true); });
    window.addEventListener("online", function () { flush(false); });

    flush(false);  // what a previous visit could not send
    fetch("/api/v1/me/progress/lessons/" + encodeURIComponent(lesson), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (progress) {
      if (!progress) { return; }
      if (progress.resume_at_seconds > 0) {
        resumeAt(progress.resume_at_seconds, "(position enregistrée)");
      } else if (progress.go_to_next && note) {
        note.textContent = "Vous aviez terminé cette leçon\u00a0: vous pouvez passer à la suivante.";
        note.hidden = false;
      }
    }).catch(function () { say("Position enregistrée indisponible pour le moment."); });
  }

  /* ---- elsewhere: the position is kept on this device ---------------------------------------------- */
  function rememberHere(key) {
    var saved = Number(localStorage.getItem(key) || 0);
    if (saved > 5) { resumeAt(saved, "(sur cet appareil)"); }
    var lastSave = 0;
    function store() {
      lastSave = Date.now();
      try { localStorage.setItem(key, String(round(media.currentTime))); } catch (e) { /* private mode */ }
    }
    media.addEventListener("timeupdate", function () { if (Date.now() - lastSave > HEARTBEAT_MS) { store(); } });
    media.addEventListener("pause", store);
    media.addEventListener("ended", function () { localStorage.removeItem(key); });
  }
})();
