// Two browser tabs on the chat example: each connects, one says something, both show it.
// Usage: node chat.js BASE_URL SCREENSHOT_PATH (CHROMIUM, the browser to drive, from the env).
"use strict";
const { chromium } = require("playwright-core");

async function main() {
    const [base, screenshot] = process.argv.slice(2);
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
        args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            // No network: every host name but the loopback address fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        ],
    });
    try {
        const context = await browser.newContext();
        const alice = await context.newPage();
        const bob = await context.newPage();
        for (const page of [alice, bob]) {
            await page.goto(base + "/");
            await page.waitForSelector("#status:text('connected')", { timeout: 10000 });
        }
        console.log("    two tabs connected");
        await alice.fill("#name", "alice");
        await alice.fill("#text", "hello from the first tab");
        await alice.click("button[type=submit]");
        for (const [who, page] of [["second", bob], ["first", alice]]) {
            await page.waitForSelector("#messages li:text('alice: hello from the first tab')", {
                timeout: 10000,
            });
            console.log(`    the ${who} tab shows the first tab's message`);
        }
        await bob.fill("#name", "bob");
        await bob.fill("#text", "and back from the second");
        await bob.press("#text", "Enter");
        await alice.waitForSelector("#messages li:text('bob: and back from the second')", {
            timeout: 10000,
        });
        console.log("    the first tab shows the second tab's answer");
        if (screenshot) {
            await alice.screenshot({ path: screenshot });
        }
    } finally {
        await browser.close();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
