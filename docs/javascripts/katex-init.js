// Typeset the math of pymdownx.arithmatex (generic mode: \( \) inline, \[ \] display) with KaTeX, vendored in
// javascripts/katex/ (see its README.md) so that the site reads the same offline. Runs on every page load, material's
// instant navigation included. A formula KaTeX cannot parse shows as a red .katex-error (tests/test_rendering.py
// fails on it), never as raw TeX.
document$.subscribe(({ body }) => {
  for (const element of body.querySelectorAll(".arithmatex")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    });
  }
});
