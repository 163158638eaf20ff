"""Sign up as a clinician in a real browser, log out, log in, see the dashboard."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_clinician_signs_up_logs_in_and_sees_dashboard(browser, asgi_live_server):
    context = browser.new_context(base_url=asgi_live_server)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/")
    page.get_by_role("link", name="Sign up as a clinician").click()
    page.get_by_label("Username").fill("drbrowser")
    page.get_by_label("Email").fill("drbrowser@example.org")
    page.get_by_label("First name").fill("Bea")
    page.get_by_label("Last name").fill("Rowser")
    page.get_by_label("Password", exact=True).fill("a-Long-unusual-passphrase-42")
    page.get_by_label("Confirm password").fill("a-Long-unusual-passphrase-42")
    page.get_by_label("Registration number").fill("GMC7654321")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Welcome, Bea Rowser")).to_be_visible()

    page.get_by_text("Bea Rowser").first.click()
    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("drbrowser")
    page.get_by_label("Password").fill("a-Long-unusual-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Welcome, Bea Rowser")).to_be_visible()
    expect(page.get_by_role("navigation", name="Primary")).to_be_visible()
    context.close()
