import "./style.css";
import { apiBaseUrl, currentProtocol, isProtocolId, setProtocol } from "./api.js";
import { setUpCallLog } from "./call-log.js";
import { byId } from "./dom.js";
import { setUpCalculator } from "./panels/calculator.js";
import { setUpGreeter } from "./panels/greeter.js";
import { setUpMovies } from "./panels/movies.js";
import { setUpOrders } from "./panels/orders.js";
import { restoreSession } from "./session.js";
import { setUpSignIn } from "./sign-in.js";

const protocolKey = "protocol";
const themeKey = "theme";
type Theme = "auto" | "light" | "dark";
const themes: readonly Theme[] = ["auto", "light", "dark"];

/** The protocol from `?protocol=`, else the last one chosen here, else Connect JSON. */
function setUpProtocolSwitch(): void {
  const requested = new URLSearchParams(location.search).get(protocolKey) ?? localStorage.getItem(protocolKey);
  if (isProtocolId(requested)) setProtocol(requested);
  const radios = document.querySelectorAll<HTMLInputElement>('#protocol-switch input[name="protocol"]');
  for (const radio of radios) {
    radio.checked = radio.value === currentProtocol().id;
    radio.addEventListener("change", () => {
      if (!radio.checked || !isProtocolId(radio.value)) return;
      setProtocol(radio.value);
      localStorage.setItem(protocolKey, radio.value);
    });
  }
}

/** Follows the system's light or dark scheme unless the person picks one. */
function setUpTheme(): void {
  const button = byId("theme-toggle", HTMLButtonElement);
  const stored = localStorage.getItem(themeKey);
  let theme: Theme = themes.find((candidate) => candidate === stored) ?? "auto";
  const apply = () => {
    if (theme === "auto") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    button.textContent = `Theme: ${theme}`;
  };
  button.addEventListener("click", () => {
    theme = themes[(themes.indexOf(theme) + 1) % themes.length] ?? "auto";
    localStorage.setItem(themeKey, theme);
    apply();
  });
  apply();
}

// Before any panel calls the server: a token handed over in the address leaves it at once.
const addressProblem = restoreSession();
setUpTheme();
setUpProtocolSwitch();
setUpSignIn(addressProblem);
setUpCallLog();
if (apiBaseUrl !== location.origin) byId("api-origin", HTMLSpanElement).textContent = `API: ${apiBaseUrl}`;
setUpCalculator();
setUpGreeter();
setUpMovies();
setUpOrders();
