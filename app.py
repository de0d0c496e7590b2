"""digitlab's web app: draw or photograph a digit and watch every preprocessing stage.

Only wiring lives here; what is computed and shown comes from ``digitlab.ui``.
Run ``python app.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import os

import gradio as gr

from digitlab import ui
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


CSS = ".stage-gallery img { image-rendering: pixelated; }"
MAX_UPLOAD = "20mb"


def workshop_controls():
    """Pipeline, model and stage switches; returns the three components."""
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


def prediction_panel():
    """The top-3 label and the one-line verdict."""
    label = gr.Label(num_top_classes=3, label="Prediction")
    verdict = gr.Markdown()
    return label, verdict


def stages_panel():
    """The stage gallery (28x28 images shown pixelated, as PNG) and the stage table."""
    gallery = gr.Gallery(label="Every stage, with the model's answer on it", columns=5, height="auto",
                         format="png", object_fit="contain", elem_classes=["stage-gallery"])
    with gr.Accordion("What each stage does", open=False):
        table = gr.Markdown()
    return gallery, table


def single_digit_view(make_input, analyze, api_name: str, **event_options):
    """Input beside prediction and workshop controls, stages below; every change re-runs ``analyze``."""
    with gr.Row():
        source = make_input()
        with gr.Column(scale=1):
            label, verdict = prediction_panel()
            pipeline, model, skip = workshop_controls()
    gallery, table = stages_panel()
    inputs, outputs = [source, pipeline, model, skip], [label, gallery, verdict, table]
    for trigger in (source.change, pipeline.change, model.change, skip.change):
        trigger(analyze, inputs, outputs, trigger_mode="always_last", api_name=api_name if trigger == source.change
                else False, **event_options)
    return source


def build_app() -> gr.Blocks:
    with gr.Blocks(title="digitlab", delete_cache=(600, 900)) as demo:
        gr.Markdown("# digitlab: handwritten digits, step by step")
        gr.Markdown(ui.HELP)
        with gr.Tab("Draw"):
            single_digit_view(
                lambda: gr.Sketchpad(label="Draw one digit (pick the brush, then draw)", canvas_size=(560, 560),
                                     height=600, brush=gr.Brush(default_size=28, colors=["#000000"], color_mode="fixed"),
                                     type="numpy", image_mode="RGBA", format="png", layers=False, scale=1),
                ui.analyze_sketch, "sketch", show_progress="hidden")
        with gr.Tab("Photo"):
            photo = single_digit_view(
                lambda: UploadedImage(label="Upload, snap or paste a photo of one digit", type="filepath",
                                      sources=["upload", "webcam", "clipboard"], height=480, scale=1),
                ui.analyze, "photo")
            gr.Examples(ui.examples("photo") + ui.examples("sketch"), inputs=photo, label="Examples made by digitlab's simulator")
        with gr.Tab("Compare pipelines"):
            gr.Markdown("The article's pipeline and the robust one on the same image, stage by stage.")
            c_photo = UploadedImage(label="Photo or drawing", type="filepath",
                               sources=["upload", "webcam", "clipboard"], height=320)
            c_model = gr.Radio(list(MODEL_NAMES), value=DEFAULT_MODEL, label="Model")
            c_verdict = gr.Markdown()
            with gr.Row():
                with gr.Column():
                    gr.Markdown("### article")
                    a_label = gr.Label(num_top_classes=3, label="article")
                    a_gallery = gr.Gallery(columns=4, height="auto", format="png", elem_classes=["stage-gallery"])
                with gr.Column():
                    gr.Markdown("### robust")
                    r_label = gr.Label(num_top_classes=3, label="robust")
                    r_gallery = gr.Gallery(columns=4, height="auto", format="png", elem_classes=["stage-gallery"])
            for trigger in (c_photo.change, c_model.change):
                trigger(ui.compare, [c_photo, c_model], [a_label, a_gallery, r_label, r_gallery, c_verdict],
                        api_name="compare" if trigger == c_photo.change else False)
            gr.Examples(ui.examples("photo"), inputs=c_photo)
        with gr.Tab("Number"):
            gr.Markdown("Reads every digit anywhere in the image, line by line. Click a digit to see its stages.")
            with gr.Row():
                n_photo = UploadedImage(label="Photo of a number", type="filepath",
                                   sources=["upload", "webcam", "clipboard"], height=360)
                n_sketch = gr.Sketchpad(label="...or write a number", canvas_size=(900, 300), height=340,
                                        brush=gr.Brush(default_size=14, colors=["#000000"], color_mode="fixed"),
                                        type="numpy", image_mode="RGBA", format="png", layers=False)
            n_text = gr.Markdown()
            n_boxes = gr.Image(label="Digits found", format="png", interactive=False)
            n_digits = gr.Gallery(label="Each digit as the model sees it", columns=8, height="auto", format="png",
                                  elem_classes=["stage-gallery"])
            n_stages = gr.Gallery(label="Stages of the selected digit", columns=5, height="auto", format="png",
                                  elem_classes=["stage-gallery"])
            n_state = gr.State()
            n_outputs = [n_boxes, n_text, n_digits, n_state]
            n_photo.change(ui.read_numbers, n_photo, n_outputs, api_name="number")
            n_sketch.change(ui.read_numbers, n_sketch, n_outputs, trigger_mode="always_last", show_progress="hidden",
                            api_name="number_sketch")
            n_digits.select(_select_digit, n_state, n_stages, api_visibility="private")
            gr.Examples(ui.examples("number"), inputs=n_photo)
        with gr.Tab("Evaluate my photos"):
            gr.Markdown("Upload several photos of your own digits, each named like `7_anything.jpg` "
                        "(or add a CSV with `file,label`), and get the article's table for *your* handwriting: "
                        "accuracy per pipeline and with each stage switched off.")
            e_files = gr.File(file_count="multiple", file_types=["image", ".csv"], label="Labelled images (and a CSV)")
            e_model = gr.Radio(list(MODEL_NAMES), value=DEFAULT_MODEL, label="Model")
            e_button = gr.Button("Evaluate", variant="primary")
            e_notes = gr.Markdown()
            e_table = gr.Dataframe(headers=["pipeline", "switched off", "accuracy", "correct", "n"], label="Accuracy")
            e_misread = gr.Gallery(label="Misread by the robust pipeline", columns=6, height="auto", format="png")
            e_button.click(lambda files, m: ui.evaluate_uploads(files, None, m), [e_files, e_model],
                           [e_table, e_misread, e_notes], api_name="evaluate")
    return demo


def _select_digit(reading, evt: gr.SelectData):
    return ui.digit_stages(reading, evt.index)


def serve(host: str = "127.0.0.1", port: int = 7860, share: bool = False, concurrency: int = 2,
          queue_size: int = 64, block: bool = True) -> gr.Blocks:
    """Load the models, build the app and start serving; ``block=False`` returns at once (tests)."""
    ui.warm_up()
    demo = build_app()
    # A bounded queue: excess clients are refused with a message instead of piling up in memory.
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    demo.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_UPLOAD,
                css=CSS, footer_links=["api"], prevent_thread_lock=not block, quiet=not block)
    return demo


def main() -> None:
    parser = argparse.ArgumentParser(description="Start the digitlab app.")
    parser.add_argument("--host", default=os.environ.get("DIGITLAB_HOST", "127.0.0.1"),
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DIGITLAB_PORT", 7860)))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    parser.add_argument("--concurrency", type=int, default=2, help="requests processed at once")
    parser.add_argument("--queue-size", type=int, default=64, help="requests waiting at most; more are refused")
    args = parser.parse_args()
    serve(args.host, args.port, args.share, args.concurrency, args.queue_size)


if __name__ == "__main__":
    main()
