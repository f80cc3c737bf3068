"""The local Personalize: control plane, runtime and events on top of moto (see local.emulator.world.World).

Where things are:

    backend.py    PersonalizeBackend: the store plus every part's operations; what the World holds
    store.py      the public core: resources, the timeline of status transitions, ARNs and names,
                  tags, paging, lookup, the lifecycle every kind shares
    datasets.py   dataset groups, schemas, datasets (UpdateDataset), import jobs
    solutions.py  solutions, solution versions (training, auto-training, stop), metrics, recipes
    serving.py    campaigns, filters, event trackers
    runtime.py    GetRecommendations, GetPersonalizedRanking, PutEvents
    batch.py      batch inference jobs
    deletion.py   data deletion jobs: their resource kind and operations in one module
    attribution.py  metric attributions, and the metrics events and imports report to CloudWatch/S3
    tags.py       TagResource, UntagResource, ListTagsForResource
    access.py     can the service read or write this S3 location with this role
    protocol.py   the wire formats (awsJson1_1, restJson1, errors)
    resources.py  every resource kind (what DescribeX shows and what the backend keeps)
    errors.py     the service's error codes;  durations.py  how long each operation takes
    borrowed.py   the only imports of the project's pipeline package (recipe catalogue, CSV check)
    data.py       the dataset containers an import fills and a training reads
    filters.py    the filter language
    training/     how a solution version learns and serves: fit.py (train, holdout, metrics),
                  scorers.py (how each recipe ranks), features.py (what models read of the
                  data), model.py (TrainedModel: recommend, rank, observe, metrics)

How the parts fit: the store is the only state. A part (datasets, solutions, serving, tags,
batch) answers its operations (`op_<Operation>`) and registers the transitions it schedules
(`store.on("import_start", ...)`); it uses the store's public API and the public functions of
lower modules, never another part's private names, so no part imports another but batch, which
reads what filters see from runtime. Saving a world pickles the store's state; the parts are
rebuilt on load. Two things the data model says itself rather than the core: which kinds go with
their owner when it is deleted (`Resource.OWNER_FIELD`: import jobs, solution versions, batch
jobs), and a tracker's tracking id (looked up among the trackers, no second index to keep in step).
"""
