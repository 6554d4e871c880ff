// Every page: on narrow screens the main menu folds behind a "Menu" button (a disclosure: aria-expanded,
// aria-controls). Without JavaScript the button stays hidden and the menu simply wraps.
(function () {
  "use strict";
  var header = document.querySelector(".site-header");
  var button = document.getElementById("nav-toggle");
  var nav = document.getElementById("site-nav");
  if (!header || !button || !nav) return;
  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("nav-open", open);
  }
  button.hidden = false;
  header.classList.add("nav-js");
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  header.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && button.getAttribute("aria-expanded") === "true" && nav.contains(document.activeElement)) {
      setOpen(false);
      button.focus();
    }
  });
})();
