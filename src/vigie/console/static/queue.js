/* La file d'attente, refreshed in place every 30 seconds (progressive: without JavaScript the
   "Actualiser la file" link reloads the same URL, filters included).
   Fetches the results fragment of the same URL from this origin, swaps it in, puts the focus
   back on the element that had it, and announces newly arrived P1 reports in the aria-live
   region and in the page title. */
(function () {
  "use strict";
  var results = document.getElementById("queue-results");
  var announcer = document.getElementById("queue-announcer");
  var updated = document.getElementById("queue-updated");
  if (!results || !announcer || !window.fetch || !window.DOMParser) {
    return;
  }
  var baseTitle = document.title;
  var period = Math.max(1, Number(results.getAttribute("data-refresh-seconds")) || 30) * 1000;
  var known = idsOf(results.getAttribute("data-p1"));
  var unseen = 0;
  var timer = null;

  function idsOf(text) {
    return (text || "").split(" ").filter(function (id) { return id !== ""; });
  }

  function clock() {
    return new Date().toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("queue-results");
    if (!fresh) {
      return;
    }
    var active = document.activeElement;
    var focusId = active && active !== results && results.contains(active) ? active.id : "";
    var nodes = Array.prototype.map.call(fresh.childNodes, function (node) {
      return document.importNode(node, true);
    });
    results.replaceChildren.apply(results, nodes);
    results.setAttribute("data-p1", fresh.getAttribute("data-p1") || "");
    if (focusId) {
      var again = document.getElementById(focusId);
      if (again) {
        again.focus();
      }
    }
    announce(idsOf(fresh.getAttribute("data-p1")));
  }

  function announce(p1) {
    var arrived = p1.filter(function (id) { return known.indexOf(id) === -1; });
    known = known.concat(arrived);
    if (updated) {
      updated.textContent = "Mise à jour à " + clock() + ".";
    }
    if (arrived.length === 0) {
      return;
    }
    unseen += arrived.length;
    announcer.textContent = (arrived.length === 1 ? "Nouveau signalement P1 : " : "Nouveaux signalements P1 : ") + arrived.join(", ") + ".";
    document.title = "(" + unseen + " nouveau" + (unseen > 1 ? "x" : "") + " P1) " + baseTitle;
  }

  function seen() {
    if (unseen > 0) {
      unseen = 0;
      document.title = baseTitle;
    }
  }

  function stop(message) {
    window.clearInterval(timer);
    if (updated) {
      updated.textContent = message;
    }
  }

  function refresh() {
    fetch(results.getAttribute("data-rows-url"), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" },
      redirect: "error"
    }).then(function (response) {
      if (response.status === 401) {
        throw new Error("session");
      }
      if (!response.ok || response.headers.get("X-Vigie-Fragment") !== "queue") {
        throw new Error("refresh");
      }
      return response.text();
    }).then(swap).catch(function (error) {
      if (error && error.message === "session") {
        stop("Session expirée : actualisez la page pour vous reconnecter.");
      } else if (updated) {
        updated.textContent = "La mise à jour automatique a échoué à " + clock() + " ; elle sera retentée.";
      }
    });
  }

  ["keydown", "pointerdown", "focusin"].forEach(function (type) {
    document.addEventListener(type, seen);
  });
  timer = window.setInterval(refresh, period);
})();
