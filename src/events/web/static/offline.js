// Registers the service worker (/sw.js) and asks it to keep this page and what it uses
// (styles, scripts, images: an order's QR codes) for when there is no network.
export async function keepOffline() {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return false;
  try {
    await navigator.serviceWorker.register("/sw.js", {scope: "/"});
    const registration = await navigator.serviceWorker.ready;
    const urls = [location.href,
                  ...Array.from(document.querySelectorAll("link[rel=stylesheet], link[rel=manifest]"), l => l.href),
                  ...Array.from(document.querySelectorAll("script[src]"), s => s.src),
                  ...Array.from(document.images, i => i.currentSrc || i.src)];
    registration.active?.postMessage({keep: urls.filter(Boolean)});
    document.documentElement.dataset.offlineReady = "true";
    return true;
  } catch (error) {
    console.warn("offline copy not available", error);
    return false;
  }
}

keepOffline();
