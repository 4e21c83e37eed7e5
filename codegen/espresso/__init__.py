"""Writers for the files of a compiled NeuralNetwork `.mlmodelc` (espresso) bundle."""
