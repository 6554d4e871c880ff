/* Swagger UI for the JSON API's OpenAPI document (/api/docs), from our static files: the document's
   URL is a data attribute, no validator badge (it would call a third-party server). */
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  if (!el || typeof SwaggerUIBundle === "undefined") { return; }
  SwaggerUIBundle({ url: el.getAttribute("data-url"), domNode: el, deepLinking: true, validatorUrl: null });
})();
