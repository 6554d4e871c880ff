// login.gov.pl: the form carrying the signed AuthnRequest goes to the node at once (the button is there for
// a browser without scripts, and stays usable with the keyboard).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("logingov-start");
  if (form && !sessionStorage.getItem("logingov-" + form.elements.RelayState.value)) {
    sessionStorage.setItem("logingov-" + form.elements.RelayState.value, "1");
    form.submit();
  }
});
