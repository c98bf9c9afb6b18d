// The document page's "Ký số" buttons: one-click signing through the signing agent on the user's PC
// (token-agent serve), as docs/agent-protocol.md describes. The PIN is typed in the agent's own window only.
(function () {
  "use strict";

  var UNREACHABLE =
    "Không kết nối được phần mềm ký số trên máy này (token-agent serve). Hãy chạy phần mềm, ghép nối tại " +
    "«Thiết bị ký số của tôi», hoặc ký bằng cách tải tệp về.";
  var POLL_MS = 1000;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function show(box, message, tone) {
    var status = box.querySelector(".agent-sign-status");
    status.textContent = message;
    status.className = "agent-sign-status flash flash-" + tone;
    status.hidden = false;
  }

  function errorMessage(body, fallback) {
    return body && body.error && body.error.message ? body.error.message : fallback;
  }

  function readJson(response) {
    return response.json().then(
      function (body) { return { ok: response.ok, body: body }; },
      function () { return { ok: response.ok, body: null }; }
    );
  }

  function poll(box, statusUrl, popup) {
    fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(readJson)
      .then(function (answer) {
        var state = answer.body || {};
        if (state.status === "done") {
          window.location.reload();
        } else if (state.status === "failed" || state.status === "expired" || !answer.ok) {
          show(box, state.message || errorMessage(answer.body, "Không ký được."), "error");
          box.querySelector("button.agent-sign").disabled = false;
          if (popup && !popup.closed && state.code === "job_expired") popup.close();
        } else {
          window.setTimeout(function () { poll(box, statusUrl, popup); }, POLL_MS);
        }
      })
      .catch(function () {
        window.setTimeout(function () { poll(box, statusUrl, popup); }, POLL_MS);
      });
  }

  function fail(box, popup, message) {
    if (popup && !popup.closed) popup.close();
    show(box, message, "error");
    box.querySelector("button.agent-sign").disabled = false;
  }

  function start(button) {
    var box = button.closest(".agent-sign-box");
    // Opened on the click itself, so that pop-up blockers let it through; its address comes later.
    var popup = window.open("about:blank", "_blank");
    if (popup) popup.opener = null; // the agent's page gets no handle on this one
    button.disabled = true;
    show(box, "Đang chuẩn bị ký số…", "info");
    var form = new FormData();
    form.append("role", button.dataset.role);
    if (button.dataset.appendixNo) form.append("appendix_no", button.dataset.appendixNo);
    fetch(button.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: form
    })
      .then(readJson)
      .then(function (created) {
        if (!created.ok) {
          fail(box, popup, errorMessage(created.body, "Không tạo được yêu cầu ký."));
          return;
        }
        var job = created.body;
        fetch(job.agent_url + "/v1/jobs", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ server: window.location.origin, job_id: job.job_id })
        })
          .then(readJson, function () { return null; })
          .then(function (agent) {
            if (agent === null) {
              fail(box, popup, UNREACHABLE);
            } else if (!agent.ok || !agent.body || !agent.body.confirm_url) {
              fail(box, popup, errorMessage(agent.body, UNREACHABLE));
            } else {
              if (popup && !popup.closed) {
                popup.location = agent.body.confirm_url;
              } else {
                window.open(agent.body.confirm_url, "_blank");
              }
              show(box, "Xác nhận và nhập mã PIN trong cửa sổ của phần mềm ký số…", "info");
              poll(box, job.status_url, popup);
            }
          });
      })
      .catch(function () {
        fail(box, popup, "Không tạo được yêu cầu ký: mất kết nối đến hệ thống.");
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.agent-sign");
    if (button && !button.disabled) start(button);
  });
})();
