"""The program for a question-answering request: a SQuAD reader and the start/end span selection written
out (transformers 5 has no question-answering pipeline), as pipelines/tasks/qa_spans.py does it."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, header, literal, text
from pipelines.tasks.question_answering import MAX_LENGTH, NO_ANSWER, STRIDE

# Above about this many characters a context may not fit one window of MAX_LENGTH tokens.
ONE_WINDOW_CHARS = 1200


def code(request) -> str:
    ckpt = registry.task("question-answering").checkpoint(request.model_id)
    no_answer = "no-answer" in ckpt.traits
    windows = (f"# The app reads a long context in overlapping windows of {MAX_LENGTH} tokens ({STRIDE} shared "
               "with the next)\n# and keeps the best span of all windows; this program reads the first window.")
    if len(request.context) > ONE_WINDOW_CHARS:
        windows += "\n# Your context may be longer than one window: then the app's answer can come from a later one."
    lines = [
        header(f"Question answering with {ckpt.label}", "torch", "transformers"),
        "import torch\nfrom transformers import AutoModelForQuestionAnswering, AutoTokenizer\n",
        f"MODEL = {literal(request.model_id)}",
        f"QUESTION = {text(request.question)}",
        f"CONTEXT = {text(request.context)}",
        f"MAX_ANSWER_TOKENS = {request.max_answer_tokens}\n",
        DEVICE,
        "tokenizer = AutoTokenizer.from_pretrained(MODEL)",
        "model = AutoModelForQuestionAnswering.from_pretrained(MODEL, dtype=dtype).to(device).eval()",
        windows,
        f'inputs = tokenizer(QUESTION, CONTEXT, truncation="only_second", max_length={MAX_LENGTH},',
        '                   return_offsets_mapping=True, return_tensors="pt")',
        'offsets = inputs.pop("offset_mapping")[0].tolist()  # each token\'s characters in the context',
        "in_context = torch.tensor([s == 1 for s in inputs.sequence_ids(0)])  # True on the context's tokens",
        "with torch.no_grad():",
        "    out = model(**inputs.to(device))",
        "start, end = out.start_logits[0].double().cpu(), out.end_logits[0].double().cpu()\n",
        "# A span runs from a start token to an end token (start <= end) of the context, at most",
        "# MAX_ANSWER_TOKENS long; its score is start logit + end logit. The first best one wins.",
        "n = len(start)",
        'first, last = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")',
        "allowed = (in_context[:, None] & in_context[None, :] & (last >= first)",
        "           & (last - first < MAX_ANSWER_TOKENS))",
        'scores = torch.where(allowed, start[:, None] + end[None, :], float("-inf"))',
        "s, e = divmod(int(scores.argmax()), n)\n",
        "# Confidence: P(start) x P(end), each a softmax over the positions the model may pick.",
        "choosable = in_context.clone()",
    ]
    if no_answer:
        lines += [
            "choosable[0] = True  # a SQuAD 2.0 reader may point both ends at the first token: no answer",
            "null = start[0] + end[0]",
            "if null > scores[s, e]:  # the 'no answer' score beats every span",
            "    s = e = 0",
        ]
    lines += [
        'p_start = start.masked_fill(~choosable, float("-inf")).softmax(0)[s]',
        'p_end = end.masked_fill(~choosable, float("-inf")).softmax(0)[e]',
        "confidence = float(p_start * p_end)",
    ]
    answer = [
        "begin, finish = offsets[s][0], offsets[e][1]",
        'print("Answer:", CONTEXT[begin:finish])',
        'print(f"Confidence: {confidence:.4f}")',
        'print(f"Characters {begin}-{finish} of the context")',
    ]
    if no_answer:
        lines += ["if s == e == 0:", f'    print("Answer:", {literal(NO_ANSWER)})',
                  '    print(f"Confidence: {confidence:.4f}")', "else:"]
        answer = ["    " + line for line in answer]
    return "\n".join(lines + answer) + "\n"
