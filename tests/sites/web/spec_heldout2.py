"""Second batch of held-out pages, written with spec_dev2.py and sealed before any rule was
tuned on that batch. Do not tune on these."""

PAGES = [
    dict(name="ho2-wp-heading-quotes", chrome="wordpress", title="Prompts to Rewrite Customer Support Replies", blocks=[
        ("p", "Support teams answer the same questions all day. These prompts keep replies kind and short."),
        ("heading_prompt", [("Rewrite this reply so the customer feels heard before we explain the policy", "Empathy first, policy second."),
                            ("Shorten this support answer to three sentences and keep the link", "Long answers get skimmed."),
                            ("Rewrite this refusal so it offers an alternative", "Never end on a plain no.")]),
        ("h2", "How to roll this out to your team"),
        ("howto", ["Share this page in your team channel.", "Pick one prompt per week to try.", "Review the replies together on Friday."]),
    ]),
    dict(name="ho2-devto-boxes", chrome="devto", title="Copy-ready prompts for better code comments", blocks=[
        ("p", "Comments rot. These prompts help keep them useful."),
        ("promptbox", ["Rewrite this comment so it explains the reason for the code, not the steps.",
                       "Delete the comments in this function that only repeat what the code says."]),
        ("label_then_block", [("Try this prompt:", "Add a short docstring to each public function in this file.", "pre")]),
        ("output", "Output:", "def parse(path): \"\"\"Read a config file and return its settings.\"\"\""),
    ]),
    dict(name="ho2-li-quoted", chrome="linkedin", title="Rewrite prompts for people who hate writing", blocks=[
        ("p", "You don't need to love writing. You need good prompts. Here are mine:"),
        ("quoted_comment_li", [("Rewrite my notes into a clear email to my manager.", "saves me 20 minutes a day"),
                               ("Turn this rambling voice memo transcript into three clear points.", "I talk, it writes"),
                               ("Make this message sound less nervous.", "for the anxious texters among us")]),
        ("p", "Which one are you stealing? 👇"),
    ]),
    dict(name="ho2-medium-italic", chrome="medium", title="Five Prompts That Made Me a Better Editor of My Own Work", blocks=[
        ("p", "Self-editing is hard because you know what you meant. These prompts show you what you wrote."),
        ("em_p", ["Underline every claim in this essay that needs a source."]),
        ("p", "I was shocked by how many claims I had made without evidence."),
        ("em_p", ["Rewrite the ending of this story so it answers the question from the first paragraph."]),
        ("label_then_block", [("Example prompt:", "Rewrite this paragraph so it uses concrete nouns instead of abstract ones.", "blockquote")]),
        ("h2", "Final thoughts"),
        ("p", "Keep your original. Compare. Decide. The choice should always be yours."),
    ]),
    dict(name="ho2-docs-catalogue", chrome="docs", title="Prompt catalogue: tone", blocks=[
        ("p", "Tone prompts change how a text feels without changing what it says."),
        ("li_expl", [("Rewrite {text} in a reassuring tone for worried customers.", "For incident updates."),
                     ("Rewrite {text} with an enthusiastic but professional tone.", "For launches."),
                     ("Make {text} sound neutral and factual.", "For internal reports.")]),
        ("dl", [("Apologetic", "Rewrite {text} as a sincere apology that does not make excuses.")]),
    ]),
]
