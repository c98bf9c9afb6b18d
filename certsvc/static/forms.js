// Forms that create a record carry a once-only token (certsvc/ui/onceonly.py): the server makes one record
// however often a token is sent. Two courtesies here, for forms with that token:
// - a form is sent once: a second submit (a double click, Enter) is stopped and its buttons are disabled;
// - Back to a form that was sent sends it again with the token it was sent with, not the fresh one of the
//   page the browser fetched again (pages are not cached), so the server leads to the record already made.
//   The token sent is kept per tab (sessionStorage), under the form's address.
"use strict";

(function () {
  var FIELD = "input[name='form_token']";
  var KEY = "certsvc.form-sent:";

  function tokenOf(form) {
    return form.querySelector ? form.querySelector(FIELD) : null;
  }

  function setBusy(form, busy) {
    form.querySelectorAll("button[type='submit'], button:not([type]), input[type='submit']").forEach(function (b) {
      b.disabled = busy;
      if (busy) {
        b.setAttribute("aria-busy", "true");
      } else {
        b.removeAttribute("aria-busy");
      }
    });
  }

  function remember(form, token) {
    try {
      window.sessionStorage.setItem(KEY + form.action, token);
    } catch (ignored) {
      // Storage refused (private mode, full): the server's check still holds.
    }
  }

  function sentBefore(form) {
    try {
      return window.sessionStorage.getItem(KEY + form.action);
    } catch (ignored) {
      return null;
    }
  }

  function cameBack(event) {
    if (event.persisted) {
      return true;
    }
    var entries = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    return entries.length > 0 && entries[0].type === "back_forward";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var token = tokenOf(form);
    if (event.defaultPrevented || !token) {
      return;
    }
    if (form.dataset.sent === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "true";
    remember(form, token.value);
    // After this event: disabling the buttons now would not stop the submission that is starting, but wait.
    window.setTimeout(function () { setBusy(form, true); }, 0);
  });

  window.addEventListener("pageshow", function (event) {
    var back = cameBack(event);
    document.querySelectorAll("form " + FIELD).forEach(function (token) {
      var form = token.form;
      delete form.dataset.sent;
      setBusy(form, false);
      var earlier = back ? sentBefore(form) : null;
      if (earlier) {
        token.value = earlier;
      }
    });
  });
})();
