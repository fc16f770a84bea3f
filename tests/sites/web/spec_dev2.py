"""Second batch of development pages: layouts the first batch lacked (the prompt as the heading,
quoted prompts with a comment after them, copy boxes, a bare label above the prompt's block,
italic prompts, list items with an explanation line) and more distractors."""

PAGES = [
    dict(name="wp-heading-prompts", chrome="wordpress", title="15 Rewrite Prompts (Each With a Real Example)", blocks=[
        ("p", "Every heading below is a prompt you can copy as it is. Under each one I explain when it helps."),
        ("heading_prompt", [("Rewrite this paragraph so it sounds more confident", "Great when you tend to undersell your work."),
                            ("Make this text easier to skim with short paragraphs", "Online readers skim; help them."),
                            ("Rewrite this bio in the third person", "Conference organisers always ask for this.")]),
        ("h2", "Key takeaways"),
        ("bullets", ["Be specific about the tone you want.", "Give the model an example.", "Edit the result yourself."]),
        ("caption", "Screenshot: ChatGPT rewriting a bio in the third person"),
    ]),
    dict(name="devto-copy-boxes", chrome="devto", title="Prompt snippets for writing release notes", blocks=[
        ("p", "I keep these in a copy box on our wiki. Click copy, paste, done."),
        ("h2", "Release notes"),
        ("promptbox", ["Rewrite these commit messages as user-facing release notes grouped by feature.",
                       "Turn this changelog into a short announcement for our users."]),
        ("h2", "Breaking changes"),
        ("label_then_block", [("Prompt:", "Explain this breaking change to users in two sentences and say what they must do.", "pre")]),
        ("p", "Read next: How we automate our changelog with GitHub Actions"),
    ]),
    dict(name="li-quoted-comments", chrome="linkedin", title="The 5 rewrite prompts I use before every post", blocks=[
        ("p", "Before I hit publish, I run every post through these. In order."),
        ("quoted_comment_li", [("Cut the first sentence of this post if it does not earn its place.", "most intros are warm-up"),
                               ("Rewrite this post so every paragraph is at most two lines.", "mobile readers thank you"),
                               ("Replace the buzzwords in this post with plain words.", "nobody says synergize out loud")]),
        ("p", "Get my free prompt pack: enter your email on my profile."),
    ]),
    dict(name="medium-italic", chrome="medium", title="My Editor Uses These Prompts. Now I Do Too.", blocks=[
        ("p", "My editor at the magazine sent me her private list. With her permission, here are my favourites."),
        ("h2", "On structure"),
        ("em_p", ["Move the strongest example in this essay to the first paragraph."]),
        ("p", "She uses this on almost every draft she receives."),
        ("h2", "On sentences"),
        ("em_p", ["Rewrite the long sentences in this paragraph as two shorter ones."]),
        ("h2", "Common mistakes"),
        ("bullets", ["Asking for too many changes at once", "Accepting the first answer", "Forgetting who the reader is"]),
    ]),
    dict(name="docs-explained-list", chrome="docs", title="Prompt catalogue: summaries", blocks=[
        ("p", "Each catalogue entry is a prompt followed by a one-line description."),
        ("li_expl", [("Summarize {text} in one paragraph for a general audience.", "Good default for blog posts."),
                     ("Summarize {text} as five bullet points with the numbers kept.", "Use for reports full of figures."),
                     ("Write a one-sentence summary of {text} that could be a headline.", "For newsletters and social posts.")]),
        ("callout", "Tip", "Pair a summary prompt with a tone prompt to get both in one pass."),
    ]),
]
