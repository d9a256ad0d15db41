//! Object detector: YOLOX (ONNX) through ONNX Runtime, with letterbox pre-processing and NMS.
