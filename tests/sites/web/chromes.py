"""Site chromes of the local test web: the same article body inside the page furniture of five
kinds of site (WordPress theme, dev.to, LinkedIn article, documentation site, Medium), each with
its navigation, sidebars, ads, author boxes, related posts and comments, which hold imperative
sentences too ("Subscribe", "Try this with Claude!") that an extractor must leave alone."""

from __future__ import annotations

from html import escape

COMMENTS = [
    ("Dana K.", "Great list! Try adding one for LinkedIn headlines next time."),
    ("Marco", "Rewrite number 3 worked really well for my cover letter, thanks."),
    ("priya_writes", "Use these with Claude too, they work the same way."),
    ("Tom", "Please make a PDF version of this so I can print it."),
]


def _comments(cls: str, n: int) -> str:
    items = "".join(f"<li class='comment'><div class='comment-author'>{escape(a)}</div>"
                    f"<div class='comment-body'><p>{escape(t)}</p></div><a class='reply' href='#'>Reply</a></li>"
                    for a, t in COMMENTS[:n])
    return f"<section class='{cls}' id='comments'><h3>{n} Comments</h3><ol class='comment-list'>{items}</ol>" \
           "<form class='comment-form'><textarea>Leave a reply</textarea><button>Post Comment</button></form></section>"


def wordpress(title: str, body: str, seed: int = 0) -> str:
    return f"""<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8"><title>{escape(title)} – PromptHaven</title>
<link rel='stylesheet' href='/wp-content/themes/astra/style.css'></head>
<body class="post-template-default single single-post">
<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<header class="site-header" id="masthead"><div class="site-branding"><a href="/">PromptHaven</a></div>
<nav class="main-navigation" id="site-navigation"><ul class="menu"><li><a href="/">Home</a></li>
<li><a href="/category/writing/">Writing Prompts</a></li><li><a href="/category/marketing/">Marketing</a></li>
<li><a href="/tools/">Free AI Tools</a></li><li><a href="/about/">About</a></li></ul></nav></header>
<div class="ad-slot ad-leaderboard"><p>Write 10x faster with Jasper AI. Start your free trial today!</p></div>
<div id="content" class="site-content"><div class="ast-container"><div id="primary" class="content-area">
<main id="main" class="site-main"><article id="post-{100 + seed}" class="post-{100 + seed} post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">{escape(title)}</h1>
<div class="entry-meta">Posted on <time>March {3 + seed % 20}, 2024</time> by <a href="/author/jen/">Jen Alvarez</a></div></header>
<div class="entry-content clear">
<div id="ez-toc-container" class="ez-toc-v2"><p class="ez-toc-title">Table of Contents</p><ul class="ez-toc-list"><li><a href="#s1">Getting started</a></li><li><a href="#faq">FAQ</a></li></ul></div>
{body}
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3><ul><li><a href="#">Share on X</a></li><li><a href="#">Share on Facebook</a></li></ul></div>
</div>
<div class="ast-author-box"><h4>About the author</h4><p>Jen Alvarez writes about AI tools for small businesses. Follow her on X for daily prompt ideas.</p></div>
<nav class="post-navigation"><a href="/prev/">« Best ChatGPT prompts for Instagram captions</a> <a href="/next/">Write better product descriptions with AI »</a></nav>
</article>
{_comments("comments-area", 3)}
</main></div>
<aside id="secondary" class="widget-area sidebar"><section class="widget widget_search"><form><input placeholder="Search …"></form></section>
<section class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2><ul>
<li><a href="/a/">Turn boring emails into great ones with these prompts</a></li>
<li><a href="/b/">Write a killer bio in five minutes</a></li>
<li><a href="/c/">Make your resume stand out using ChatGPT</a></li></ul></section>
<section class="widget"><h2 class="widget-title">Newsletter</h2><p>Get new prompts every week. Subscribe now and never miss an update.</p></section>
</aside></div></div>
<footer class="site-footer"><p>© 2024 PromptHaven. All rights reserved.</p><ul><li><a href="/privacy/">Privacy Policy</a></li><li><a href="/terms/">Terms</a></li></ul></footer>
<div class="cookie-notice">We use cookies to improve your experience. <button>Accept</button></div>
</body></html>"""


def devto(title: str, body: str, seed: int = 0) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} - DEV Community</title></head>
<body data-user-status="logged-out" class="default default-article-body">
<header class="crayons-header"><a href="/" class="site-logo">DEV Community</a><form class="crayons-header--search"><input placeholder="Search..."></form>
<a href="/enter" class="crayons-btn">Log in</a><a href="/enter?state=new-user" class="crayons-btn">Create account</a></header>
<div class="crayons-layout crayons-layout--3-cols">
<aside class="crayons-layout__sidebar-left"><nav class="sidebar-nav"><ul><li><a href="/">Home</a></li><li><a href="/readinglist">Reading List</a></li><li><a href="/listings">Listings</a></li><li><a href="/podcasts">Podcasts</a></li></ul></nav></aside>
<main id="main-content" class="crayons-layout__content">
<article class="crayons-card" id="article-show-container" data-article-id="{1500 + seed}">
<header class="crayons-article__header"><div class="crayons-article__header__meta">
<a class="crayons-link fw-bold" href="/sam_dev">Sam Okafor</a> <time datetime="2024-02-1{seed % 10}">Feb 1{seed % 10}</time>
<h1 class="fs-3xl">{escape(title)}</h1><div class="spec__tags"><a class="crayons-tag" href="/t/ai">#ai</a><a class="crayons-tag" href="/t/chatgpt">#chatgpt</a><a class="crayons-tag" href="/t/productivity">#productivity</a></div></div></header>
<div class="crayons-article__main"><div class="crayons-article__body text-styles spec__body" data-article-id="{1500 + seed}" id="article-body">
{body}
</div></div></article>
<section id="comments" class="text-padding mb-4 crayons-card"><header><h2 class="crayons-subtitle-1">Top comments (4)</h2></header>
<div class="comments"><details class="comment-single"><summary>Alex Rivera</summary><div class="comment__body"><p>Nice post! Add a section about prompt chaining please.</p></div></details>
<details class="comment-single"><summary>Kim</summary><div class="comment__body"><p>Try combining #2 and #5, works great for code reviews.</p></div></details></div></section>
<div class="crayons-card crayons-card--secondary"><p>Code of Conduct • Report abuse</p></div>
</main>
<aside class="crayons-layout__sidebar-right"><div class="crayons-card"><h3>More from Sam Okafor</h3><ul>
<li><a href="/x">Write cleaner commit messages with AI</a></li><li><a href="/y">Refactor legacy code using GPT-4</a></li></ul></div>
<div class="crayons-card sponsorship-widget"><p>Build faster with Neon serverless Postgres. Sign up free.</p></div></aside>
</div><footer class="crayons-footer"><p>DEV Community — A constructive and inclusive social network for software developers.</p></footer></body></html>"""


def linkedin(title: str, body: str, seed: int = 0) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | LinkedIn</title></head>
<body class="render-mode-BIGPIPE nav-v2">
<header class="global-nav"><nav class="global-nav__nav"><ul><li><a href="/feed/">Home</a></li><li><a href="/mynetwork/">My Network</a></li><li><a href="/jobs/">Jobs</a></li><li><a href="/messaging/">Messaging</a></li></ul></nav>
<a class="nav__button-secondary" href="/login">Sign in</a> <a class="nav__button-primary" href="/signup">Join now</a></header>
<main class="main" id="main-content"><section class="core-rail">
<div class="article-main__content"><h1 class="article-title">{escape(title)}</h1>
<div class="article-author"><a href="/in/lena">Lena Fischer</a><p class="author-headline">Content Strategist | Helping founders write with AI | 20k followers</p>
<button class="follow">Follow</button></div>
<div class="article-content" data-test-id="article-content-blocks"><div class="article-main__content reader-article-content">
{body}
</div></div></div>
<div class="social-action-bar"><span>Like</span><span>Comment</span><span>Repost</span><span>Send</span><span class="reactions">1,204 reactions · 87 comments</span></div>
<section class="comments-section"><div class="comment"><a>Raj Patel</a><p>Saving this! Add one for cold outreach messages please 🙏</p></div>
<div class="comment"><a>Emily Chen</a><p>Rewrite prompts like these saved me hours this week.</p></div></section>
</section>
<aside class="right-rail"><section class="more-articles"><h2>More articles by Lena Fischer</h2><ul><li><a href="/p1">Write LinkedIn posts that get read</a></li><li><a href="/p2">Stop writing boring bios</a></li></ul></section>
<section class="ad-banner"><p>Grow your network with LinkedIn Premium. Try it free for 1 month.</p></section></aside></main>
<footer class="li-footer"><ul><li>About</li><li>Accessibility</li><li>User Agreement</li><li>Privacy Policy</li><li>Cookie Policy</li></ul><p>LinkedIn © 2024</p></footer></body></html>"""


def docs(title: str, body: str, seed: int = 0) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · PromptKit Docs</title></head>
<body class="docs-page">
<div class="announcement-bar">PromptKit 2.0 is out! Read the release notes.</div>
<nav class="navbar navbar--fixed-top"><a class="navbar__brand" href="/">PromptKit</a><a class="navbar__item" href="/docs/">Docs</a><a class="navbar__item" href="/blog/">Blog</a><a class="navbar__item" href="https://github.com/promptkit">GitHub</a></nav>
<div class="main-wrapper docs-wrapper"><aside class="theme-doc-sidebar-container"><nav class="menu thin-scrollbar" aria-label="Docs sidebar"><ul class="theme-doc-sidebar-menu menu__list">
<li class="menu__list-item"><a class="menu__link" href="/docs/intro">Introduction</a></li><li class="menu__list-item"><a class="menu__link" href="/docs/install">Install the CLI</a></li>
<li class="menu__list-item"><a class="menu__link menu__link--active" href="#">Prompt library</a></li><li class="menu__list-item"><a class="menu__link" href="/docs/api">Use the API</a></li></ul></nav></aside>
<main class="docMainContainer"><div class="container padding-top--md"><div class="row"><div class="col docItemCol">
<nav class="theme-doc-breadcrumbs" aria-label="Breadcrumbs"><ul class="breadcrumbs"><li><a href="/">Home</a></li><li>Prompt library</li></ul></nav>
<article><div class="theme-doc-markdown markdown"><header><h1>{escape(title)}</h1></header>
{body}
</div>
<footer class="theme-doc-footer docusaurus-mt-lg"><a href="https://github.com/promptkit/docs/edit/main/library.md" class="theme-edit-this-page">Edit this page</a>
<span class="theme-last-updated">Last updated on Apr {seed % 28 + 1}, 2024</span></footer></article>
<nav class="pagination-nav" aria-label="Docs pages"><a class="pagination-nav__link--prev" href="/docs/install">Previous: Install the CLI</a><a class="pagination-nav__link--next" href="/docs/api">Next: Use the API</a></nav>
</div><div class="col col--3"><div class="tableOfContents_bqdL thin-scrollbar theme-doc-toc-desktop"><ul class="table-of-contents"><li><a href="#overview">Overview</a></li><li><a href="#examples">Examples</a></li></ul></div></div></div></div></main></div>
<footer class="footer footer--dark"><div class="footer__links"><a href="/docs/">Docs</a> <a href="https://discord.gg/x">Discord</a></div><div class="footer__copyright">Copyright © 2024 PromptKit, Inc.</div></footer></body></html>"""


def medium(title: str, body: str, seed: int = 0) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | by Arjun Mehta | Medium</title></head>
<body><div id="root"><div class="a b c">
<div class="l k"><nav class="metabar"><a href="/" aria-label="Homepage">Medium</a><a href="/m/signin">Sign in</a><a href="/m/signup">Get started</a><a href="/new-story">Write</a></nav></div>
<div class="meteredContent"><div class="paywall-banner"><p>Member-only story</p></div>
<article><div class="l"><div class="ab ca"><section><div class="fr fs ft"><div class="ab ca"><div class="ch bg fv fw fx fy">
<div><h1 id="a1b2" class="pw-post-title gx gy gz bd ha hb hc">{escape(title)}</h1></div>
<div class="speechify-ignore ab co"><div class="pw-author"><a href="/@arjun">Arjun Mehta</a> · <button>Follow</button><p>Published in Better Writing · 6 min read · Jan {seed % 28 + 1}, 2024</p></div>
<div class="clap-bar"><button aria-label="clap">1.2K</button><button aria-label="responses">34</button><button>Listen</button><button>Share</button></div></div>
{body}
</div></div></div></section></div></div></article>
<div class="post-footer"><div class="tags"><a href="/tag/chatgpt">ChatGPT</a><a href="/tag/writing">Writing</a><a href="/tag/ai">AI</a></div>
<div class="author-card"><h2>Written by Arjun Mehta</h2><p>2.3K Followers · Editor of Better Writing. I help writers use AI without losing their voice.</p><button>Follow</button></div>
<div class="responses"><h2>Responses (34)</h2><div class="response"><p>What are your thoughts?</p></div><div class="response"><p>Make a part two with prompts for academic writing!</p></div></div>
<div class="more-from"><h2>More from Arjun Mehta and Better Writing</h2><ul><li><a href="/s1">Write headlines people actually click</a></li><li><a href="/s2">Edit your own writing like a pro</a></li></ul></div>
<div class="recommended"><h2>Recommended from Medium</h2><ul><li><a href="/r1">Use ChatGPT to plan your week</a></li></ul></div></div></div>
<footer><a href="/about">About</a> <a href="/help">Help</a> <a href="/terms">Terms</a> <a href="/privacy">Privacy</a></footer></div></div></body></html>"""


CHROMES = {"wordpress": wordpress, "devto": devto, "linkedin": linkedin, "docs": docs, "medium": medium}
