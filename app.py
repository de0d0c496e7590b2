"""digitlab's web app: draw or photograph a digit and watch every preprocessing stage.

Only wiring lives here; what is computed and shown comes from ``digitlab.ui``.
Run ``python app.py`` (``--help`` for the options), or ``gradio app.py`` to reload on edits;
``demo`` is the app.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os

import gradio as gr

from digitlab import canvas, stageview, ui
from digitlab.model import DEFAULT_MODEL, MODEL_NAMES
from digitlab.pipeline import DEFAULT_PIPELINE, PIPELINES


class UploadedImage(gr.Image):
    """A ``gr.Image`` that passes the uploaded file's path on unopened.

    Gradio would open the file with PIL before digitlab sees it, so a damaged file, a text file
    or a decompression bomb would fail inside Gradio with a generic error; digitlab's own
    decoder refuses them with a clear message instead.
    """

    def get_block_name(self) -> str:
        return "image"  # the same front end as gr.Image

    def preprocess(self, payload):
        if payload is None or payload.path is None:
            return super().preprocess(payload)  # data: URLs (webcam snapshots in some browsers)
        return str(payload.path)


CSS = stageview.CSS + canvas.CSS
MAX_UPLOAD = "20mb"
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 7860
# Two requests at a time use both cores of a small machine; 64 waiting is a full workshop, and a
# bounded queue refuses the excess with a message instead of piling requests up in memory.
CONCURRENCY, QUEUE_SIZE = 2, 64
# On a phone the webcam source opens the camera on the back, the one that faces the paper.
REAR_CAMERA = gr.WebcamOptions(mirror=False, constraints={"video": {"facingMode": {"ideal": "environment"}}})


def address(host: str | None = None, port: int | None = None, env=os.environ) -> tuple[str, int]:
    """Where to serve: command-line flags, then DIGITLAB_HOST/PORT, then Gradio's own
    GRADIO_SERVER_NAME/PORT (what Hugging Face Spaces set), then loopback:7860."""
    host = host or env.get("DIGITLAB_HOST") or env.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    port = port or env.get("DIGITLAB_PORT") or env.get("GRADIO_SERVER_PORT") or DEFAULT_PORT
    return host, int(port)


def named(view, result_type, outputs: dict):
    """``view`` as a handler whose named result's fields go to the components of the same names."""
    names = [f.name for f in dataclasses.fields(result_type)]
    assert set(names) == set(outputs), f"{result_type.__name__} fields {names} != components {list(outputs)}"

    @functools.wraps(view)
    def handler(*args):
        result = view(*args)
        values = [getattr(result, name) for name in names]
        return values if len(values) > 1 else values[0]  # Gradio unpacks a list only for several outputs

    components = [outputs[name] for name in names]
    return handler, components if len(components) > 1 else components[0]


def show(triggers, view, inputs, result_type, outputs: dict, after=None, **event_options):
    """Run ``view`` on any of ``triggers`` (or once the event ``after`` has succeeded); each field of its
    named result goes to the component of that name."""
    handler, components = named(view, result_type, outputs)
    if after is not None:
        return after.success(handler, inputs, components, **event_options)
    return gr.on(triggers, handler, inputs, components, **event_options)


def click_when_ready(elem_id: str) -> str:
    """JavaScript that clicks the download button ``elem_id`` once its new file has arrived."""
    return (f"() => {{ const e = document.getElementById('{elem_id}'); "
            "(e && (e.tagName === 'BUTTON' ? e : e.querySelector('button, a')))?.click(); }")


def upload(label: str, height: int) -> UploadedImage:
    return UploadedImage(label=label, type="filepath", sources=["upload", "webcam", "clipboard"], height=height,
                         webcam_options=REAR_CAMERA)


def sketch(spec: canvas.CanvasSpec, label: str) -> gr.HTML:
    return gr.HTML("", html_template=canvas.template(spec, label), js_on_load=canvas.JS, label=label)


def workshop_controls():
    """Pipeline, model and stage switches; returns the three components."""
    with gr.Accordion("Workshop controls: pipeline, model, switch stages off", open=False):
        with gr.Row():
            pipeline = gr.Radio(list(PIPELINES), value=DEFAULT_PIPELINE, label="Pipeline",
                                info="article: the classic 8 steps; robust: what real photos need")
            model = gr.Radio(list(MODEL_NAMES), value=DEFAULT_MODEL, label="Model",
                             info="softmax: the article's 92% model; cnn: 99.6%")
        skip = gr.CheckboxGroup(ui.skippable_stages(DEFAULT_PIPELINE), value=[], label="Switch stages off",
                                info="What if we skip a step? Tick it and see the prediction change.")
    pipeline.change(lambda p: gr.CheckboxGroup(choices=ui.skippable_stages(p), value=[]), pipeline, skip,
                    api_visibility="private")
    return pipeline, model, skip


def single_digit_view(make_input, view, api_name: str, **event_options):
    """Input with the prediction right under or beside it, workshop controls, then every stage."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            source = make_input()
        with gr.Column(scale=1, min_width=300):
            outputs = {"label": gr.Label(num_top_classes=3, label="Prediction"), "verdict": gr.Markdown()}
            pipeline, model, skip = workshop_controls()
    outputs["stages"] = gr.HTML(label="Every stage, with the model's answer on it")
    outputs["alternatives"] = gr.HTML()
    outputs["recognition"] = gr.State()
    with gr.Accordion("What each stage does", open=False):
        outputs["table"] = gr.Markdown()
    with gr.Row(equal_height=True):
        gr.Markdown("### The model, opened")
        make_sheet = gr.Button("Download the sheet (PNG)", size="sm", scale=0, min_width=220)
        sheet = gr.DownloadButton(visible="hidden", elem_id=f"{api_name}-sheet-file")
    model_views = gr.HTML(elem_classes=["model-views-slot"])
    answered = show([source.change, pipeline.change, model.change, skip.change], view, [source, pipeline, model, skip],
                    ui.DigitView, outputs, trigger_mode="always_last", api_name=api_name, **event_options)
    # The model views follow the answer, so a stroke's label and stages are not kept waiting for them.
    show([], ui.model_view, outputs["recognition"], ui.ModelView, {"model_views": model_views}, after=answered,
         api_name=f"{api_name}_model_views", **event_options)
    cache = sheet.GRADIO_CACHE
    show([make_sheet.click], lambda result: ui.download_sheet(result, cache), outputs["recognition"], ui.SheetDownload,
         {"sheet": sheet}, api_name=f"{api_name}_sheet").success(None, js=click_when_ready(f"{api_name}-sheet-file"))
    return source


def build_app() -> gr.Blocks:
    with gr.Blocks(title="digitlab", delete_cache=(600, 900)) as demo:
        gr.Markdown("# digitlab: handwritten digits, step by step")
        with gr.Accordion("What is this?", open=False):
            gr.Markdown(ui.HELP)
        with gr.Tab("Draw"):
            single_digit_view(lambda: sketch(canvas.DIGIT, "Draw one digit"), ui.analyze_sketch, "sketch",
                              show_progress="hidden")
        with gr.Tab("Photo"):
            photo = single_digit_view(lambda: upload("Upload, snap or paste a photo of one digit", 420),
                                      ui.analyze, "photo")
            gr.Examples(ui.examples("photo") + ui.examples("sketch"), inputs=photo,
                        label="Examples made by digitlab's simulator")
        with gr.Tab("Compare pipelines"):
            gr.Markdown("The article's pipeline and the robust one on the same image, stage by stage.")
            c_photo = upload("Photo or drawing", 320)
            c_model = gr.Radio(list(MODEL_NAMES), value=DEFAULT_MODEL, label="Model")
            c_out = {"verdict": gr.Markdown()}
            with gr.Row():
                for name in ("article", "robust"):
                    with gr.Column():
                        gr.Markdown(f"### {name}")
                        c_out[f"{name}_label"] = gr.Label(num_top_classes=3, label=name)
                        c_out[f"{name}_stages"] = gr.HTML()
            show([c_photo.change, c_model.change], ui.compare, [c_photo, c_model], ui.CompareView, c_out,
                 api_name="compare")
            gr.Examples(ui.examples("photo"), inputs=c_photo)
        with gr.Tab("Number"):
            gr.Markdown("Reads every digit anywhere in the image, line by line. Open a digit to see its stages.")
            with gr.Row():
                n_photo = upload("Photo of a number", 360)
                with gr.Column():
                    n_sketch = sketch(canvas.NUMBER, "...or write a number")
            n_out = {"text": gr.Markdown(), "boxes": gr.HTML(), "digits": gr.HTML()}
            with gr.Accordion("How each line was split into digits (the search's winner and runner-up)", open=False):
                n_out["segmentations"] = gr.Markdown()
            show([n_photo.change], ui.read_numbers, n_photo, ui.NumberView, n_out, api_name="number")
            show([n_sketch.change], ui.read_numbers, n_sketch, ui.NumberView, n_out, trigger_mode="always_last",
                 show_progress="hidden", api_name="number_sketch")
            gr.Examples(ui.examples("number"), inputs=n_photo)
        with gr.Tab("Evaluate my photos"):
            gr.Markdown("Upload several photos of your own digits, each named like `7_anything.jpg` "
                        "(or add a CSV with `file,label`), and get the article's table for *your* handwriting: "
                        "accuracy per pipeline and with each stage switched off.")
            e_files = gr.File(file_count="multiple", file_types=["image", ".csv"], label="Labelled images (and a CSV)")
            e_model = gr.Radio(list(MODEL_NAMES), value=DEFAULT_MODEL, label="Model")
            e_button = gr.Button("Evaluate", variant="primary")
            e_out = {"notes": gr.Markdown()}
            with gr.Row():
                e_out["table"] = gr.Dataframe(headers=["pipeline", "switched off", "accuracy", "correct", "n"],
                                              label="Accuracy")
                e_out["stage_accuracy"] = gr.Dataframe(
                    headers=["pipeline", "#", "model fed this stage's output", "accuracy", "correct", "n"],
                    label="Accuracy of every stage's output")
            e_out["confusion"] = gr.HTML(label="Your class's handwriting: what the robust pipeline read")
            e_out["misread"] = gr.HTML(label="Misread by the robust pipeline")
            show([e_button.click], ui.evaluate_uploads, [e_files, e_model], ui.EvaluationView, e_out,
                 api_name="evaluate")
    return demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)


def serve(demo: gr.Blocks | None = None, host: str | None = None, port: int | None = None, share: bool = False,
          concurrency: int = CONCURRENCY, queue_size: int = QUEUE_SIZE, block: bool = True) -> gr.Blocks:
    """Load the models and start serving (a fresh app unless given one); ``block=False`` returns at once (tests)."""
    ui.warm_up()
    demo = demo or build_app()
    host, port = address(host, port)
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    demo.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_UPLOAD,
                css=CSS, footer_links=["api"], prevent_thread_lock=not block, quiet=not block)
    return demo


demo = build_app()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Start the digitlab app.")
    parser.add_argument("--host", help=f"address to bind (else DIGITLAB_HOST, GRADIO_SERVER_NAME, {DEFAULT_HOST}: "
                                       "this machine only)")
    parser.add_argument("--port", type=int, help=f"else DIGITLAB_PORT, GRADIO_SERVER_PORT, {DEFAULT_PORT}")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="requests processed at once")
    parser.add_argument("--queue-size", type=int, default=QUEUE_SIZE, help="requests waiting at most; more are refused")
    args = parser.parse_args(argv)
    serve(demo, args.host, args.port, args.share, args.concurrency, args.queue_size)


if __name__ == "__main__":
    main()
