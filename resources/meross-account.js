/**
 * The "Sign in to Meross account" and "Find devices" panels of the meross-config dialog and of
 * meross-onboard's re-bind mode. They talk to the admin endpoints of src/nodes/shared/account-admin.ts
 * (POST <type>/account and <type>/find). The password is sent once and its field is emptied right
 * after; the account key goes only into the dialog's password-type key field, never into text.
 * Sentences come from meross-config's message catalog, whichever dialog shows the panel.
 */
(function (global, $, RED) {
  "use strict";
  if (global.MerossAccount) return;

  var CATALOG = "node-red-contrib-meross-local/meross-config:meross-config.account.";
  var DEFAULT_API = "https://iot.meross.com";

  function t(key, vars) {
    return RED._(CATALOG + key, vars);
  }

  function errorText(xhr) {
    var e = xhr.responseJSON && xhr.responseJSON.error;
    return e ? e.message : xhr.statusText || "error";
  }

  function field(id, type, label, placeholder) {
    var $row = $("<div class='form-row'>");
    $("<label>").attr("for", id).text(label).appendTo($row);
    $("<input style='width:70%'>")
      .attr({ id: id, type: type, placeholder: placeholder || "", autocomplete: "off" })
      .appendTo($row);
    return $row;
  }

  function button(id, icon, label) {
    return $("<button type='button' class='red-ui-button'>")
      .attr("id", id)
      .append($("<i class='fa'>").addClass(icon))
      .append($("<span>").text(" " + label));
  }

  /** One line per account device: name (model, firmware) · uuid, then its hub sub-devices. */
  function deviceLines(devices) {
    var $list = $("<ul class='meross-account-devices' style='margin:4px 0 0 18px;'>");
    (devices || []).forEach(function (d) {
      var $li = $("<li>")
        .attr("data-uuid", d.uuid)
        .text((d.name || "?") + " (" + (d.model || "?") + ", " + t("firmware") + " " + (d.firmware || "?") + ") · " + d.uuid);
      if (d.subDevices && d.subDevices.length) {
        var $sub = $("<ul>").appendTo($li);
        d.subDevices.forEach(function (s) {
          $("<li>")
            .text((s.name || "?") + " (" + (s.model || "?") + ") · " + s.id)
            .appendTo($sub);
        });
      }
      $li.appendTo($list);
    });
    return $list;
  }

  /**
   * Adds the sign-in panel to `$where`. `opts.type` is the node type whose endpoint is used,
   * `opts.$key` the password-type field the account key goes into, `opts.onAccount(account)` is
   * told the user id and devices (never the key).
   */
  function signInPanel($where, opts) {
    var p = "meross-account-" + opts.type + "-";
    var $panel = $("<div class='meross-account'>").appendTo($where);
    var $open = $("<div class='form-row'>")
      .append($("<label>"))
      .append(button(p + "open", "fa-cloud", t("signIn")))
      .appendTo($panel);
    var $form = $("<div>").hide().appendTo($panel);
    field(p + "email", "text", t("email"), "name@example.com").appendTo($form);
    field(p + "password", "password", t("password"), t("passwordHint")).appendTo($form);
    var $mfa = field(p + "mfa", "text", t("mfa"), "123456")
      .hide()
      .appendTo($form);
    field(p + "api", "text", t("service"), DEFAULT_API).appendTo($form);
    $("<div class='form-row'>")
      .append($("<label>"))
      .append(button(p + "go", "fa-sign-in", t("signInGo")))
      .appendTo($form);
    var $out = $("<div class='form-row'>")
      .append($("<label>"))
      .append($("<div style='display:inline-block;width:70%'>").attr("id", p + "result"));
    $out.appendTo($panel);
    var $result = $out.children("div");
    var storedApi = global.localStorage && global.localStorage.getItem("meross-account-api");
    $("#" + p + "api").val(storedApi || DEFAULT_API);
    $("#" + p + "open").on("click", function (ev) {
      ev.preventDefault();
      $open.hide();
      $form.show();
    });
    $("#" + p + "go").on("click", function (ev) {
      ev.preventDefault();
      var $password = $("#" + p + "password");
      var api = String($("#" + p + "api").val() || "").trim() || DEFAULT_API;
      var body = { email: $("#" + p + "email").val(), password: $password.val(), apiUrl: api, mfaCode: $("#" + p + "mfa").val() };
      $result.removeClass("meross-config-error").text(t("signingIn"));
      global.MerossEditor.postJSON(opts.type + "/account", body, 60000)
        .done(function (a) {
          // Used once: the password leaves the dialog now.
          $password.val("");
          $("#" + p + "mfa").val("");
          if (global.localStorage) global.localStorage.setItem("meross-account-api", api);
          if (a.key) opts.$key.val(a.key).trigger("change");
          $form.hide();
          $open.show();
          $result
            .empty()
            .append($("<div>").text(t("signedIn", { userId: a.userId, count: (a.devices || []).length })))
            .append($("<div>").text(t(a.signedOut ? "signedOut" : "notSignedOut")))
            .append($("<div>").text(t("keyFilled", { field: opts.keyLabel })))
            .append(deviceLines(a.devices));
          if (opts.onAccount) opts.onAccount({ userId: a.userId, devices: a.devices || [] });
        })
        .fail(function (xhr) {
          var mfa = xhr.responseJSON && xhr.responseJSON.mfaRequired;
          if (mfa) $mfa.show();
          $result.addClass("meross-config-error").text(mfa ? t("mfaAsked") : errorText(xhr));
        });
    });
  }

  function boundText(d) {
    return t("bound." + (d.boundTo || "unknown"));
  }

  /**
   * Adds the Find devices panel. `opts.key()` is the key to try, `opts.broker()` the picked
   * meross-broker id (or ""), `opts.names()` uuid → name from the sign-in, `opts.onPick(device)`
   * fills the dialog; with `opts.onAll(devices)` a "Move all found devices" button is offered.
   */
  function findPanel($where, opts) {
    var p = "meross-find-" + opts.type + "-";
    var $panel = $("<div class='meross-find'>").appendTo($where);
    var $row = field(p + "targets", "text", t("targets"), "192.168.1.0/24").appendTo($panel);
    $row.find("input").css("width", "45%");
    $row.append(" ").append(button(p + "go", "fa-search", t("find")));
    var $list = $("<div style='display:inline-block;width:70%;max-height:260px;overflow-y:auto;font-size:13px;'>").attr("id", p + "list");
    $("<div class='form-row'>").append($("<label>")).append($list).appendTo($panel);
    $("#" + p + "go").on("click", function (ev) {
      ev.preventDefault();
      var body = { targets: $("#" + p + "targets").val(), key: opts.key(), broker: opts.broker(), names: opts.names() };
      $list.removeClass("meross-config-error").text(t("finding"));
      global.MerossEditor.postJSON(opts.type + "/find", body, 120000)
        .done(function (res) {
          var found = (res && res.devices) || [];
          global.MerossEditor.pickList($list, found, {
            none: t("noneFound"),
            prompt: t("pick"),
            className: "meross-find-device",
            render: function ($a, d) {
              $a.attr("data-uuid", d.uuid)
                .append(
                  $("<div class='meross-config-device-name'>").text(
                    (d.name || d.model || "?") + (d.name && d.model ? " (" + d.model + ")" : ""),
                  ),
                )
                .append(
                  $("<div class='meross-config-device-detail'>").text(
                    [
                      d.address,
                      d.uuid,
                      d.firmware ? t("firmware") + " " + d.firmware : "",
                      t(d.keyFits ? "keyFits" : "keyWrong"),
                      boundText(d),
                    ]
                      .filter(Boolean)
                      .join(" · "),
                  ),
                );
            },
            onPick: opts.onPick,
          });
          var fits = found.filter(function (d) {
            return d.keyFits;
          });
          if (opts.onAll && fits.length > 0) {
            button(p + "all", "fa-truck", t("moveAll", { count: fits.length }))
              .on("click", function (e) {
                e.preventDefault();
                opts.onAll(fits);
              })
              .appendTo($("<div style='margin-top:6px'>").appendTo($list));
          }
        })
        .fail(function (xhr) {
          $list.addClass("meross-config-error").text(errorText(xhr));
        });
    });
  }

  global.MerossAccount = { signInPanel: signInPanel, findPanel: findPanel };
})(window, jQuery, RED);
