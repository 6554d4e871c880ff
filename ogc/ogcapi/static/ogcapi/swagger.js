/* Swagger UI for the OGC API's OpenAPI document, from our static files (the URL is a data attribute). */
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  if (!el || typeof SwaggerUIBundle === "undefined") { return; }
  SwaggerUIBundle({ url: el.getAttribute("data-url"), domNode: el, deepLinking: true });
})();
