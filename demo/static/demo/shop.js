// The demo shop's only script: the snippet's `track` stub (calls made before the async snippet
// loads are replayed), and the signup form, which reports a `signup` event instead of posting.
window.datalab = window.datalab || { q: [], track: function () { this.q.push(arguments); } };
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.id !== "signup-form") return;
  event.preventDefault();
  window.datalab.track("signup", { plan: form.plan.value });
  form.hidden = true;
  document.getElementById("welcome").hidden = false;
});
