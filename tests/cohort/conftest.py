from datetime import timedelta

import pytest

from imaging import vocabulary as iv
from patients import vocabulary as pv
from tests.cohort import builders as b

HER2 = pv.Subtype.HR_POS_HER2_POS
TN = pv.Subtype.TRIPLE_NEGATIVE


@pytest.fixture
def cohort(site):
    """The reference cohort of docs/cohort.md's worked example (pCR ypT0/is ypN0 by default).

    #  ypT/ypN      MRI  MG      histology  subtype   | MRI  MG
    1  ypT2 ypN1    pos  pos     invasive   HER2+     | TP   TP
    2  ypT1 ypN0    pos* neg     -          HER2+     | TP   FN
    3  ypTis ypN0   neg  pos     dcis       HER2+     | TN   FP
    4  ypT0 ypN0    neg† pos     benign     HER2+     | TN   FP
    5  ypT0 ypN0    pos  neg     -          TN        | FP   TN
    6  ypT0 ypN1    neg  neg     -          TN        | FN   FN
    7  ypT0 ypN0    neg  benign‡ -          TN        | TN   TN
    8  no pathology pos  pos                HER2+     | excluded: no pathology
    9  ypT2 ypN0    draft  none             TN        | excluded: draft / missing
    * an earlier post-NAC MRI without enhancement: the last one counts.
    † a later DRAFT post-NAC MRI with enhancement: only signed studies count.
    ‡ an earlier post-NAC mammogram with fine pleomorphic calcifications.
    """
    p = {}
    p[1] = b.patient(site, subtype=HER2, ypt="ypT2", ypn="ypN1", mr="pos", mg="pos", histology="invasive")
    p[2] = b.patient(site, subtype=HER2, ypt="ypT1", ypn="ypN0", mr="pos", mg="neg")
    b.mri(p[2], b.SURGERY - timedelta(days=60), enhancement=False)
    p[3] = b.patient(site, subtype=HER2, ypt="ypTis", ypn="ypN0", mr="neg", mg="pos", histology="dcis")
    p[4] = b.patient(site, subtype=HER2, ypt="ypT0", ypn="ypN0", mr="neg", mg="pos", histology="benign")
    b.mri(p[4], b.SURGERY - timedelta(days=7), enhancement=True, final=False)
    p[5] = b.patient(site, subtype=TN, ypt="ypT0", ypn="ypN0", mr="pos", mg="neg")
    p[6] = b.patient(site, subtype=TN, ypt="ypT0", ypn="ypN1", mr="neg", mg="neg")
    p[7] = b.patient(site, subtype=TN, ypt="ypT0", ypn="ypN0", mr="neg", mg="benign")
    b.mammogram(p[7], b.SURGERY - timedelta(days=90), morphology=iv.Morphology.FINE_PLEOMORPHIC)
    p[8] = b.patient(site, subtype=HER2, mr="pos", mg="pos", pathology=False)
    p[9] = b.patient(site, subtype=TN, ypt="ypT2", ypn="ypN0", mr="draft")
    return p
