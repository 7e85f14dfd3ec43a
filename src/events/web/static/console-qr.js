// Draws each [data-qr] element's text as an SVG QR code in the browser (qrcode-generator,
// vendored): a new device's scanner link never leaves this page in another request.
const SVG = "http://www.w3.org/2000/svg";
const QUIET_ZONE = 4;
const {default: qrcode} = await import("/static/vendor/qrcode-generator.js");
for (const holder of document.querySelectorAll("[data-qr]")) {
  const code = qrcode(0, "M");
  code.addData(holder.dataset.qr);
  code.make();
  const count = code.getModuleCount();
  const size = count + 2 * QUIET_ZONE;
  let path = "";
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (code.isDark(row, col)) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  const svg = document.createElementNS(SVG, "svg");
  for (const [key, value] of Object.entries({viewBox: `0 0 ${size} ${size}`, role: "img",
      "aria-label": holder.dataset.qrLabel || "QR", "shape-rendering": "crispEdges",
      width: "240", height: "240", "data-testid": "qr-code"})) {
    svg.setAttribute(key, value);
  }
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", size);
  background.setAttribute("height", size);
  background.setAttribute("fill", "#fff");
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", path);
  modules.setAttribute("fill", "#000");
  svg.append(background, modules);
  holder.append(svg);
}
