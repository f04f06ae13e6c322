// A small rich-text editor for textareas marked data-rich-text. Without JavaScript the
// textarea stays and accepts the same simple HTML. The server sanitises everything with nh3.
(function () {
  const labels = document.getElementById("richtext-labels");
  if (!labels) return;
  const t = (key) => labels.dataset[key] || key;
  const commands = [
    ["bold", "B", t("bold")],
    ["italic", "I", t("italic")],
    ["h3", "H", t("heading")],
    ["insertUnorderedList", "•", t("bullets")],
    ["insertOrderedList", "1.", t("numbers")],
    ["createLink", "🔗", t("link")],
    ["removeFormat", "⌫", t("clear")],
  ];
  document.querySelectorAll("textarea[data-rich-text]").forEach((textarea) => {
    const wrapper = document.createElement("div");
    wrapper.className = "richtext";
    const toolbar = document.createElement("div");
    toolbar.className = "richtext-toolbar btn-toolbar gap-1 mb-1";
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-label", t("toolbar"));
    const editor = document.createElement("div");
    editor.className = "richtext-editor form-control";
    editor.contentEditable = "true";
    editor.setAttribute("role", "textbox");
    editor.setAttribute("aria-multiline", "true");
    const label = document.querySelector(`label[for="${textarea.id}"]`);
    if (label) {
      label.id = label.id || `${textarea.id}-label`;
      editor.setAttribute("aria-labelledby", label.id);
      label.addEventListener("click", () => editor.focus());
    }
    editor.innerHTML = textarea.value;
    commands.forEach(([command, text, title]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-secondary";
      button.textContent = text;
      button.title = title;
      button.setAttribute("aria-label", title);
      button.addEventListener("click", () => {
        editor.focus();
        if (command === "h3") {
          document.execCommand("formatBlock", false, "h3");
        } else if (command === "createLink") {
          const url = window.prompt(t("linkPrompt"), "https://");
          if (url && /^(https?:|mailto:)/i.test(url)) document.execCommand("createLink", false, url);
        } else {
          document.execCommand(command, false, null);
        }
        sync();
      });
      toolbar.appendChild(button);
    });
    const sync = () => { textarea.value = editor.innerHTML; };
    editor.addEventListener("input", sync);
    textarea.form && textarea.form.addEventListener("submit", sync);
    textarea.hidden = true;
    textarea.parentNode.insertBefore(wrapper, textarea);
    wrapper.append(toolbar, editor, textarea);
  });
})();
