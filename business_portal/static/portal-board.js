// The deal board, enhanced: drag a card to another stage, or use its own Move form, and the
// move is sent in the background and announced. Without this script every card's form still
// works (it posts and the page reloads), so the board never depends on it.
(function () {
  "use strict";
  var board = document.querySelector(".board[data-can-move='yes']");
  var status = document.getElementById("board-status");
  var meta = document.querySelector("meta[name='csrf-token']");
  if (!board || !status || !meta || !window.fetch || !window.FormData) {
    return;
  }
  var token = meta.getAttribute("content");
  var dragged = null;

  function announce(text, failed) {
    status.hidden = false;
    status.textContent = text;
    status.classList.toggle("failed", Boolean(failed));
  }

  function cardsOf(list) {
    return Array.prototype.filter.call(list.children, function (node) {
      return node.classList.contains("deal-card");
    });
  }

  function showEmpty(list) {
    var empty = list.parentElement.querySelector(".column-empty");
    if (empty) {
      empty.hidden = cardsOf(list).length > 0;
    }
  }

  function clearMarks() {
    Array.prototype.forEach.call(board.querySelectorAll(".drop-target"), function (node) {
      node.classList.remove("drop-target");
    });
    Array.prototype.forEach.call(board.querySelectorAll(".drop-before"), function (node) {
      node.classList.remove("drop-before");
    });
  }

  // Put the card into the list before `before` (or last); return how to undo it.
  function place(card, list, before) {
    var from = card.parentElement;
    var next = card.nextElementSibling;
    list.insertBefore(card, before);
    showEmpty(list);
    showEmpty(from);
    return function undo() {
      from.insertBefore(card, next);
      showEmpty(from);
      showEmpty(list);
    };
  }

  function send(card, stageId, position, undo) {
    var body = new FormData();
    body.append("csrf_token", token);
    body.append("stage_id", stageId);
    if (position !== null) {
      body.append("position", String(position));
    }
    return fetch(card.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("move refused: " + response.status);
      }
      return response.json();
    }).then(function (answer) {
      Object.keys(answer.totals).forEach(function (stage) {
        var total = document.getElementById("total-" + stage);
        if (total) {
          total.textContent = answer.totals[stage];
        }
      });
      var select = card.querySelector("select[name='stage_id']");
      if (select) {
        select.value = answer.stage_id;
      }
      announce(answer.message, false);
    }).catch(function () {
      undo();
      announce(board.getAttribute("data-move-failed"), true);
    });
  }

  function listAt(target) {
    var column = target.closest ? target.closest(".board-column") : null;
    return column ? column.querySelector(".deal-cards") : null;
  }

  // The first card (other than the dragged one) whose middle is below the pointer.
  function cardAfter(list, y) {
    var cards = cardsOf(list).filter(function (card) { return card !== dragged; });
    for (var i = 0; i < cards.length; i += 1) {
      var box = cards[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) {
        return cards[i];
      }
    }
    return null;
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest(".deal-card") : null;
    if (!card) {
      return;
    }
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-deal-id"));
  });

  board.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("dragging");
    }
    dragged = null;
    clearMarks();
  });

  board.addEventListener("dragover", function (event) {
    var list = dragged ? listAt(event.target) : null;
    if (!list) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarks();
    list.classList.add("drop-target");
    var after = cardAfter(list, event.clientY);
    if (after) {
      after.classList.add("drop-before");
    }
  });

  board.addEventListener("dragleave", function (event) {
    if (!board.contains(event.relatedTarget)) {
      clearMarks();
    }
  });

  board.addEventListener("drop", function (event) {
    var list = dragged ? listAt(event.target) : null;
    if (!list) {
      return;
    }
    event.preventDefault();
    var card = dragged;
    var before = cardAfter(list, event.clientY);
    clearMarks();
    if (before === card.nextElementSibling && list === card.parentElement) {
      return; // dropped where it was
    }
    var undo = place(card, list, before);
    send(card, list.getAttribute("data-stage-id"), cardsOf(list).indexOf(card), undo);
  });

  // The keyboard way: the card's own form, sent in the background; the card goes last.
  board.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("move-form")) {
      return;
    }
    var card = form.closest(".deal-card");
    var select = form.querySelector("select[name='stage_id']");
    var list = board.querySelector(".deal-cards[data-stage-id='" + select.value + "']");
    if (!card || !list) {
      return; // let the form post itself
    }
    event.preventDefault();
    var undo = place(card, list, null);
    select.focus();
    send(card, select.value, null, undo);
  });
}());
