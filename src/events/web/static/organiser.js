// Organisers' sign-in, shared by their pages (attendance, gate devices). The page includes
// templates/checkin/_organiser_login.html (the form, #login, and its texts) and has its
// signed-in part in #board with a #logout button. POST /api/v1/auth/login; the bearer
// token stays in this tab's sessionStorage.
const TOKEN_KEY = "events.organiser.token";
const $ = id => document.getElementById(id);

/**
 * `root` gets data-state "login" or "board". onSignedIn runs each time the board is shown,
 * onSignedOut each time the sign-in form is. Call start() once the page is ready.
 */
export function organiserSignIn({root, onSignedIn, onSignedOut = () => {}}) {
  const text = JSON.parse($("organiser-text").textContent);

  function showLogin(message = "") {
    onSignedOut();
    $("board").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message;
    root.dataset.state = "login";
  }

  function showBoard() {
    $("login").hidden = true;
    $("board").hidden = false;
    root.dataset.state = "board";
    onSignedIn();
  }

  function signOut(message = "") {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(message);
  }

  async function login(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    let response;
    try {
      response = await fetch("/api/v1/auth/login", {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({username: $("username").value.trim(), password: $("password").value})});
    } catch {
      $("login-error").textContent = text.error;
      return;
    }
    if (!response.ok) {
      $("login-error").textContent = response.status === 401 || response.status === 422
        ? text.failed : text.error;
      return;
    }
    const body = await response.json();
    if (body.role !== "organiser") {
      $("login-error").textContent = text.not_organiser;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, body.access_token);
    $("password").value = "";
    showBoard();
  }

  /**
   * fetch() with the organiser's token; `body` is sent as JSON. Without a token, or when
   * the server refuses it (401 expired, 403 not an organiser), the sign-in form comes back
   * and the answer is null. A network failure throws, as fetch does.
   */
  async function api(path, {method = "GET", body} = {}) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      showLogin();
      return null;
    }
    const headers = {"Authorization": `Bearer ${token}`};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {method, headers, cache: "no-store",
                                        body: body === undefined ? undefined : JSON.stringify(body)});
    if (response.status === 401 || response.status === 403) {
      signOut(response.status === 401 ? text.expired : text.not_organiser);
      return null;
    }
    return response;
  }

  function start() {
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", () => signOut());
    if (sessionStorage.getItem(TOKEN_KEY)) showBoard();
    else showLogin();
  }

  return {api, signOut, start};
}
