/* The checkout page: a Stripe card element, the pay button, and the hold's countdown.
   The card goes to Stripe.js only; this script posts the token it makes to our server
   (scheduling/views/checkout.py) and acts on the JSON `status` it answers. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("checkout-data").textContent);
  var text = data.text;
  var form = document.querySelector("[data-checkout-form]");
  var button = form.querySelector("button[type=submit]");
  var errorBox = document.querySelector("[data-testid=pay-error]");
  var errorText = errorBox.querySelector("[data-error-text]");
  var againLink = errorBox.querySelector("[data-again]");
  var countdown = document.querySelector("[data-countdown]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var deadline = Date.now() + data.secondsLeft * 1000;
  var busy = false;
  var over = false;

  var stripe = Stripe(data.publishableKey);
  var card = stripe.elements({ locale: document.documentElement.lang || "auto" }).create("card");
  card.mount("#card-element");
  button.disabled = false;

  function showError(message, offerAgain) {
    errorText.textContent = message;
    againLink.hidden = !offerAgain;
    errorBox.hidden = false;
    errorBox.focus();
  }

  function setBusy(value) {
    busy = value;
    button.disabled = value || over;
    button.textContent = value ? text.paying : button.getAttribute("data-label");
  }

  function runOut() {
    over = true;
    button.disabled = true;
    form.hidden = true;
    showError(text.ranOut, true);
  }

  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    if (left <= 0) {
      countdown.hidden = true;
      if (!busy) {
        runOut();
        return;
      }
    } else {
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      countdown.textContent = text.left.replace("%(time)s", minutes + ":" + (seconds < 10 ? "0" : "") + seconds);
      countdown.hidden = false;
    }
    window.setTimeout(tick, 1000);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json();
    });
  }

  function settle(answer) {
    if (answer.status === "succeeded") {
      over = true; // leaving for the confirmation: the button stays off
      window.location.assign(answer.redirect || data.doneUrl);
      return null;
    }
    if (answer.status === "requires_action") {
      return stripe.confirmCardPayment(answer.client_secret).then(function (result) {
        if (result.error) {
          showError(text.authFailed, false);
        }
        return post(data.returnUrl).then(settle);
      });
    }
    if (answer.status === "refused") {
      over = true;
      form.hidden = true;
      showError(answer.message, true);
      return null;
    }
    showError(answer.message || text.network, false);
    return null;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy || over) {
      return;
    }
    setBusy(true);
    errorBox.hidden = true;
    stripe
      .createToken(card)
      .then(function (result) {
        if (result.error || !result.token) {
          showError((result.error && result.error.message) || text.cardProblem, false);
          return null;
        }
        return post(data.payUrl, { token: result.token.id }).then(settle);
      })
      .catch(function () {
        showError(text.network, false);
      })
      .then(function () {
        setBusy(false);
      });
  });

  tick();
})();
