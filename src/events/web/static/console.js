// The console's few behaviours; pages work without it (forms post, links navigate).
// - htmx requests carry the CSRF token (X-CSRFToken) from <meta name="csrf-token">;
// - a festival switcher <select data-autosubmit> submits itself when changed;
// - <form data-confirm="..."> asks before posting (revoke, unlock, ...).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta && meta.content) event.detail.headers["X-CSRFToken"] = meta.content;
  });
  document.documentElement.classList.add("js");
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
