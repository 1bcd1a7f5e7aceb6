/* Parley browser client: the negotiation room's outbox, actions until their event is in
   the thread.

   Every action gets a fresh client_id and stays in the outbox (shown under the thread as
   "Sending…") until the server acknowledges it and the event with the ack's seq is
   applied; only then does its pending item give way to the real one. The server treats
   a repeated client_id as the same action (DESIGN.md section 5), so anything not
   acknowledged is simply sent again: after a reconnect, after a transient refusal
   (service_unavailable, rate_limited; backoff 0.5, 1, 2, 4 s, then "Not sent" with
   Retry), or when no answer came for a while. What the user typed is cleared only on
   the ack, and only if it is still what was sent. */
"use strict";

(function (P) {
  const h = P.h;

  // `st`: the room's state (its lastSeq); the inputs it clears on an ack and the error box
  // it shows refusals in; `socket()` and `render()`: the room's socket and redraw.
  P.roomOutbox = function ({ currency, st, errorBox, amount, offerNote, chatInput, socket, render }) {
    const TRANSIENT = new Set(["service_unavailable", "rate_limited"]);
    const AUTO_TRIES = 4;
    const NO_ANSWER_MS = 10000;
    const outbox = new Map(); // client_id -> entry, in the order the user acted
    const outboxBySeq = new Map(); // acknowledged seq -> entry, until its event is applied
    const outboxList = h("ol", { class: "thread outbox", "aria-label": "Not yet in the conversation", "aria-live": "polite", "data-testid": "outbox" });
    let idCounter = 0;
    let pumpTimer = null;

    function newClientId() {
      if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
      const bytes = crypto.getRandomValues(new Uint8Array(12)); // randomUUID needs a secure context
      return `c${++idCounter}-${Date.now().toString(36)}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    }

    const VERB = { accept: "Accept the offer", decline: "Decline", withdraw: "Withdraw" };

    function pendingItem(p) {
      const f = p.frame;
      let content;
      if (f.type === "message") content = h("p", { class: "body" }, f.body);
      else if (f.type === "offer")
        content = h(
          "div",
          { class: "offer-card" },
          h("span", { class: "label" }, "Your offer"),
          h("strong", { class: "amount" }, P.money(f.amount, currency)),
          f.message ? h("p", {}, f.message) : null,
        );
      else content = h("p", { class: "body" }, VERB[f.type] || f.type);
      p.status = h("span", { class: "send-state", "data-testid": "send-state" });
      p.buttons = h("span", { class: "pending-actions" });
      p.el = h("li", { class: "item mine pending", "data-client-id": p.cid, "data-kind": f.type }, content, h("small", { class: "meta" }, "You · ", p.status), p.buttons);
      return p.el;
    }

    function showPending(p) {
      const failed = p.state === "failed";
      p.el.dataset.state = p.state;
      p.el.classList.toggle("failed", failed);
      p.status.textContent =
        p.state === "acked"
          ? "Sent"
          : failed
            ? `Not sent: ${p.reason}`
            : p.state === "wait"
              ? "Sending… (trying again)"
              : "Sending…";
      const buttons = [];
      if (failed) {
        // Named with what they act on: a screen reader lists several "Retry" buttons.
        const what = p.frame.type === "message" ? `message “${p.frame.body.slice(0, 40)}”` : p.frame.type === "offer" ? `offer of ${P.money(p.frame.amount, currency)}` : p.frame.type;
        buttons.push(h("button", { type: "button", class: "secondary small", onclick: () => retry(p), "aria-label": `Retry the ${what}` }, "Retry"));
        if (p.frame.type === "message") buttons.push(h("button", { type: "button", class: "secondary small", onclick: () => editAgain(p), "aria-label": `Edit the ${what}` }, "Edit"));
        buttons.push(h("button", { type: "button", class: "secondary small", onclick: () => discard(p), "aria-label": `Discard the unsent ${what}` }, "Discard"));
      }
      p.buttons.replaceChildren(...buttons);
    }

    function enqueue(frame, input) {
      errorBox.hidden = true;
      errorBox.textContent = "";
      amount.removeAttribute("aria-invalid");
      chatInput.removeAttribute("aria-invalid");
      // A new action of the same kind replaces ones that were refused for good.
      const chat = frame.type === "message";
      for (const old of [...outbox.values()]) {
        if (old.state === "failed" && !old.transient && (old.frame.type === "message") === chat) discard(old, true);
      }
      const cid = newClientId();
      const p = { cid, frame: Object.assign({ client_id: cid }, frame), input, state: "queued", tries: 0, timer: null };
      outbox.set(cid, p);
      outboxList.append(pendingItem(p));
      showPending(p);
      pump();
      render();
      return p;
    }

    // Send what is queued, in order; an item waiting for its backoff holds back those after it.
    function pump() {
      clearTimeout(pumpTimer);
      pumpTimer = null;
      if (!socket().open) return; // everything goes when the socket (re)opens
      for (const p of outbox.values()) {
        if (p.state === "wait") return;
        if (p.state !== "queued") continue;
        if (!socket().send(p.frame)) {
          pumpTimer = setTimeout(pump, 250); // our own frame budget: a moment later
          return;
        }
        p.state = "inflight";
        showPending(p);
        clearTimeout(p.timer);
        p.timer = setTimeout(() => {
          if (p.state === "inflight") {
            p.state = "queued"; // no answer: the connection may be dead; resending is safe
            pump();
          }
        }, NO_ANSWER_MS);
      }
    }

    function backoff(p, reason) {
      clearTimeout(p.timer);
      p.tries += 1;
      if (p.tries > AUTO_TRIES) {
        p.state = "failed";
        p.transient = true;
        p.reason = reason;
      } else {
        p.state = "wait";
        p.timer = setTimeout(() => {
          if (p.state !== "wait") return;
          p.state = "queued";
          showPending(p);
          pump();
        }, 500 * 2 ** (p.tries - 1));
      }
      showPending(p);
      render();
    }

    function retry(p) {
      clearTimeout(p.timer);
      p.state = "queued";
      p.tries = 0;
      p.transient = false;
      errorBox.hidden = true;
      if (p.input) p.input.removeAttribute("aria-invalid");
      showPending(p);
      pump();
      render();
    }

    function discard(p, quiet) {
      clearTimeout(p.timer);
      outbox.delete(p.cid);
      if (p.seq) outboxBySeq.delete(p.seq);
      p.el.remove();
      if (!quiet) render();
    }

    function editAgain(p) {
      chatInput.value = p.frame.body;
      discard(p);
      chatInput.focus();
    }

    function acknowledged(frame) {
      const p = outbox.get(frame.client_id);
      if (!p) return; // a repeated ack of something already shown
      clearTimeout(p.timer);
      // Clear what the user typed only if it is still what was sent.
      const f = p.frame;
      if (f.type === "message" && chatInput.value.trim() === f.body) chatInput.value = "";
      if (f.type === "offer" && amount.value && Number(amount.value).toFixed(2) === f.amount && offerNote.value.trim() === (f.message || "")) {
        amount.value = "";
        offerNote.value = "";
      }
      if (frame.seq <= st.lastSeq) {
        discard(p); // its event is in the thread already (e.g. the first ack of a resend)
        return;
      }
      p.state = "acked";
      p.seq = frame.seq;
      outboxBySeq.set(frame.seq, p);
      showPending(p);
      render();
    }

    function refused(frame) {
      const words = P.words(frame);
      const p = frame.client_id ? outbox.get(frame.client_id) : null;
      if (!p) {
        if (frame.code === "rate_limited") {
          // Refused before it was read, so it names no client_id: whatever is still
          // unanswered may be it; resending is safe.
          outbox.forEach((q) => q.state === "inflight" && backoff(q, words));
          return;
        }
        errorBox.textContent = words;
        errorBox.hidden = false;
        return;
      }
      if (TRANSIENT.has(frame.code)) return backoff(p, words);
      clearTimeout(p.timer);
      p.state = "failed";
      p.transient = false;
      p.reason = words;
      errorBox.textContent = words;
      errorBox.hidden = false;
      if (p.input) p.input.setAttribute("aria-invalid", "true");
      showPending(p);
      render();
    }

    // The socket opened again: whatever was sent on the old one and not answered goes again,
    // with the same client_id (as do those that ran out of automatic tries).
    function resendAll() {
      outbox.forEach((p) => {
        if (p.state === "inflight" || p.state === "wait" || (p.state === "failed" && p.transient)) {
          clearTimeout(p.timer);
          if (p.state === "failed") p.tries = 0;
          p.state = "queued";
          p.transient = false;
          showPending(p);
        }
      });
      pump();
      render();
    }

    // An offer, accept, decline or withdraw on its way: no second one until it is answered.
    function actionPending() {
      for (const p of outbox.values()) if (p.frame.type !== "message" && p.state !== "failed") return true;
      return false;
    }

    function stop() {
      clearTimeout(pumpTimer);
      outbox.forEach((p) => clearTimeout(p.timer));
    }

    return {
      entries: outbox,
      bySeq: outboxBySeq,
      list: outboxList,
      enqueue,
      retry,
      discard,
      acknowledged,
      refused,
      resendAll,
      actionPending,
      stop,
    };
  };
})(window.P);
