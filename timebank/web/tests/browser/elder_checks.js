() => {
  const problems = [];
  const px = v => parseFloat(v || '0');
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                     return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const background = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                             if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
  const body = getComputedStyle(document.body);
  if (px(body.fontSize) < 18) problems.push(`body text ${body.fontSize}`);
  if (px(body.lineHeight) / px(body.fontSize) < 1.3) problems.push(`line height ${body.lineHeight}`);
  for (const el of document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea, summary, [role=button]')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    if (el.classList.contains('skip')) continue;
    if (r.height < 59.5 || r.width < 59.5) problems.push(`target ${el.tagName} "${(el.innerText || el.value || el.name || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement; const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none' || el.closest('.skip')) continue;
    const fg = rgb(st.color).slice(0, 3); const bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 7) problems.push(`contrast ${ratio.toFixed(2)} "${n.textContent.trim().slice(0, 20)}"`);
    if (px(st.fontSize) < 18) problems.push(`text ${st.fontSize} "${n.textContent.trim().slice(0, 20)}"`);
  }
  return problems;
}
