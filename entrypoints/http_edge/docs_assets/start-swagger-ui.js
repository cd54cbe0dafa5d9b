// Starts Swagger UI on the API docs page. It lives in a file because the page's
// Content-Security-Policy allows no inline script.
window.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: holder.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  });
});
