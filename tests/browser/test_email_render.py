"""The campaign email in Chromium, as a phone (320 px) and a desktop reading pane (600 px) show it,
with images loaded and with images blocked (Outlook's default until the sender is trusted)."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from campaigns.delivery.tests.email_samples import every_branch
from lib.colors import contrast_ratio

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WIDTHS = (320, 600)

# The colour of the text an element shows, and of the first background behind it, as #rrggbb.
COLOURS = """(element) => {
  const hex = (rgb) => '#' + rgb.match(/\\d+/g).slice(0, 3).map((n) => (+n).toString(16).padStart(2, '0')).join('');
  let node = element, background = null;
  while (node && node.nodeType === 1) {
    const style = getComputedStyle(node);
    if (style.backgroundColor && !/rgba\\(.*,\\s*0\\)$/.test(style.backgroundColor) && style.backgroundColor !== 'transparent') {
      background = style.backgroundColor; break;
    }
    node = node.parentElement;
  }
  return [hex(getComputedStyle(element).color), hex(background || 'rgb(255,255,255)')];
}"""

# Points over the whole coloured button, each resolved to the link under it (or null).
BUTTON_POINTS = """() => {
  const cell = document.querySelector('td.button-td');
  cell.scrollIntoView({block: 'center'});
  const box = cell.getBoundingClientRect();
  const points = [];
  for (const fx of [0.02, 0.5, 0.98]) for (const fy of [0.05, 0.5, 0.95]) {
    const x = box.left + box.width * fx, y = box.top + box.height * fy;
    const link = document.elementFromPoint(x, y)?.closest('a');
    points.push(link ? link.className : null);
  }
  return {points, width: box.width, height: box.height};
}"""


@pytest.fixture
def emails(project, owner, settings):
    settings.SITE_URL = "https://launchpad.example.se"
    project.refresh_from_db()
    return every_branch(project, owner)


def _show(page, settings, html: str, *, width: int, images: bool) -> None:
    def serve(route):
        path = urlsplit(route.request.url).path
        if images and path.startswith(settings.MEDIA_URL):
            route.fulfill(path=str(Path(settings.MEDIA_ROOT) / path.removeprefix(settings.MEDIA_URL)))
        else:
            route.abort()

    page.set_viewport_size({"width": width, "height": 900})
    page.unroute("**/*")
    page.route("**/*", serve)
    page.set_content(html, wait_until="load")


@pytest.mark.parametrize("images", [True, False], ids=["images", "images-blocked"])
@pytest.mark.parametrize("width", WIDTHS)
def test_the_email_fits_and_its_button_is_one_big_link(page, settings, emails, width, images):
    for name, html in emails:
        _show(page, settings, html, width=width, images=images)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width} px is {overflow} px too wide"
        button = page.evaluate(BUTTON_POINTS)
        assert button["points"] == ["button-link font"] * 9, f"{name} at {width} px: {button}"
        assert button["height"] >= 44  # a finger-sized target
        if width == 320:
            assert button["width"] >= 320 - 2 * 10 - 2 * 22 - 2  # full width on a phone


@pytest.mark.parametrize("width", WIDTHS)
def test_with_images_blocked_alt_texts_keep_their_place_and_are_readable(page, settings, emails, width):
    name, html = emails[0]  # logo and hero
    _show(page, settings, html, width=width, images=False)
    images = page.locator("img[alt]:not([alt=''])")
    assert images.count() == 2
    for index in range(images.count()):
        image = images.nth(index)
        assert image.evaluate("(img) => img.naturalWidth") == 0  # blocked indeed
        box = image.bounding_box()
        proportion = 2 if image.get_attribute("alt") == "Två kollegor vid en skärm" else 4  # hero 2:1, logo 4:1
        assert abs(box["height"] - box["width"] / proportion) <= 2, f"{name}: blocked image collapsed to {box}"
        ink, ground = image.evaluate(COLOURS)
        assert contrast_ratio(ink, ground) >= 4.5, f"{image.get_attribute('alt')}: {ink} on {ground}"


@pytest.mark.parametrize("width", WIDTHS)
def test_with_images_on_the_hero_fills_the_width_in_proportion(page, settings, emails, width):
    _name, html = emails[0]
    _show(page, settings, html, width=width, images=True)
    hero = page.locator("td.hero img")
    assert hero.evaluate("(img) => img.naturalWidth") > 0
    box, cell = hero.bounding_box(), page.locator("td.hero").bounding_box()
    assert abs(box["width"] - cell["width"]) <= 1
    assert abs(box["height"] - box["width"] / 2) <= 2  # the image is 2:1
