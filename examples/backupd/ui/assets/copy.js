// Copy buttons: <button data-copy="ID"> copies the value of the input ID
// and says so in the status line (.copied) of its section.
document.addEventListener('click', function (e) {
  var b = e.target.closest('button[data-copy]');
  if (!b) return;
  var el = document.getElementById(b.getAttribute('data-copy'));
  if (!el) return;
  var section = b.closest('section');
  var status = section && section.querySelector('.copied');
  var say = function (msg) { if (status) status.textContent = msg; };
  el.focus();
  el.select();
  var ok = false;
  try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
  if (ok) {
    say('Copied to the clipboard.');
  } else if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(el.value).then(
      function () { say('Copied to the clipboard.'); },
      function () { say('Selected: press Ctrl+C (or Cmd+C) to copy.'); });
  } else {
    say('Selected: press Ctrl+C (or Cmd+C) to copy.');
  }
});

// Chromium keeps even Cache-Control: no-store pages in its back/forward
// cache, so Back would show a token page again, token and all. A page
// restored from that cache drops the token and loads afresh (the server
// shows a token once).
window.addEventListener('pageshow', function (e) {
  if (!e.persisted) return;
  document.querySelectorAll('section.shown').forEach(function (s) { s.remove(); });
  location.reload();
});
