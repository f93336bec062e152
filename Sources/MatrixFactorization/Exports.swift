// The engine's public API uses the linear-algebra and rating-data types directly (a model's
// factors are a `Matrix`, its id maps are `IDMap`s), so importing MatrixFactorization is enough.
@_exported import LinearAlgebra
@_exported import RatingData
